// The Python module `melodist` over the public C++ API (include/melodist/): pybind11 (Debian pybind11-dev).
// The GIL is released while a model generates, scores or trains; melodist::Error becomes melodist.Error
// (a RuntimeError) carrying the one-line message.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "melodist/melodist.h"

namespace py = pybind11;
namespace api = melodist::api;

namespace {

// One row of Melody.notes: a (N,) structured array pitch int32, onset float64, duration float64 (quarters).
struct Row { int32_t pitch; double onset, duration; };

py::array notes_array(const api::Melody& m) {
  const std::vector<api::Note> notes = m.notes();
  py::array_t<Row> out(static_cast<py::ssize_t>(notes.size()));
  auto r = out.mutable_unchecked<1>();
  for (size_t i = 0; i < notes.size(); ++i) r(i) = Row{notes[i].pitch, notes[i].onset, notes[i].duration};
  return out;
}

}  // namespace

PYBIND11_MODULE(melodist, m) {
  m.doc() = "melodist: compose and score folk-song melodies with an LSTM (the C++ library's public API)";
  m.attr("__version__") = MELODIST_VERSION;
  PYBIND11_NUMPY_DTYPE(Row, pitch, onset, duration);
  py::register_exception<melodist::Error>(m, "Error", PyExc_RuntimeError);

  py::class_<api::Melody>(m, "Melody")
      .def_static("from_symbols", &api::Melody::from_symbols, py::arg("symbols"), py::arg("step") = 0.25)
      .def_property_readonly("symbols", &api::Melody::symbols)
      .def_property_readonly("notes", &notes_array)
      .def_property_readonly("log_likelihood", &api::Melody::log_likelihood)
      .def_property_readonly("ended", &api::Melody::ended)
      .def_property_readonly("length", &api::Melody::length)
      .def_property_readonly("meter", [](const api::Melody& self) -> std::optional<std::string> {
            const auto m = self.meter();  // "6/8", or None when the melody names none
            if (!m) return std::nullopt;
            return std::to_string(m->numerator) + "/" + std::to_string(m->denominator);
          })
      .def("write", [](const api::Melody& self, const std::string& path, double bpm) {
            api::WriteOptions o;
            o.bpm = bpm;
            self.write(path, o);
          }, py::arg("path"), py::arg("bpm") = 120.0);

  py::class_<api::Model>(m, "Model")
      .def_static("load", &api::Model::load, py::arg("path"))
      .def("generate", [](const api::Model& self, int n, const std::string& key, int bars, double temperature, double top_p,
                          int top_k, uint64_t seed, int max_steps, std::vector<std::string> primer, const std::string& meter,
                          const std::string& pickup, const std::string& end_on, int beam_size, int branch_factor,
                          const std::string& time_signature, int candidates,
                          double cadence_temperature, int cadence_bars, double rhythm_temperature) {
            api::GenerationOptions o;
            o.count = n; o.key = key; o.bars = bars; o.temperature = temperature; o.top_p = top_p; o.top_k = top_k;
            o.seed = seed; o.max_steps = max_steps; o.primer = std::move(primer);
            o.pickup = pickup; o.end_on = end_on; o.beam_size = beam_size; o.branch_factor = branch_factor;
            o.candidates = candidates;
            o.cadence_temperature = cadence_temperature; o.cadence_bars = cadence_bars;
            o.rhythm_temperature = rhythm_temperature;
            auto parse_meter = [](const std::string& text, const char* name) -> std::optional<api::Meter> {
              if (text.empty()) return std::nullopt;
              const size_t slash = text.find('/');  // "6/8"; the library checks the range
              try {
                if (slash == std::string::npos) throw std::invalid_argument(text);
                return api::Meter{std::stoi(text.substr(0, slash)), std::stoi(text.substr(slash + 1))};
              } catch (const std::exception&) {
                throw melodist::Error(std::string(name) + " \"" + text + "\" is not N/D such as 6/8");
              }
            };
            o.meter = parse_meter(meter, "meter");
            o.time_signature = parse_meter(time_signature, "time_signature");
            py::gil_scoped_release release;
            return self.generate(o);
          }, py::arg("n") = 1, py::arg("key") = "", py::arg("bars") = 0, py::arg("temperature") = 1.0, py::arg("top_p") = 1.0,
          py::arg("top_k") = 0, py::arg("seed") = 1, py::arg("max_steps") = 500, py::arg("primer") = std::vector<std::string>{},
          py::arg("meter") = "", py::arg("pickup") = "", py::arg("end_on") = "", py::arg("beam_size") = 1, py::arg("branch_factor") = 1,
          py::arg("time_signature") = "", py::arg("candidates") = 0,
          py::arg("cadence_temperature") = -1.0, py::arg("cadence_bars") = 3, py::arg("rhythm_temperature") = -1.0)
      .def("score", [](const api::Model& self, const api::Melody& melody, bool score_end) {
            api::Score s;
            {
              py::gil_scoped_release release;
              s = self.score(melody, score_end);
            }
            return py::array_t<double>(static_cast<py::ssize_t>(s.nats.size()), s.nats.data());
          }, py::arg("melody"), py::arg("score_end") = true);

  py::class_<api::Epoch>(m, "Epoch")
      .def_readonly("epoch", &api::Epoch::epoch)
      .def_readonly("step", &api::Epoch::step)
      .def_readonly("train_loss", &api::Epoch::train_loss)
      .def_readonly("val_loss", &api::Epoch::val_loss)
      .def_readonly("val_accuracy", &api::Epoch::val_accuracy)
      .def_readonly("elapsed", &api::Epoch::elapsed);
  m.def("preprocess", [](const std::vector<std::string>& inputs, const std::string& out, double step, int jobs, bool transpose,
                         bool key_symbol, bool meter_symbol, bool barlines, int countdown_bars, bool triplets,
                         bool final_mark, bool countdown_key, bool per_note, bool pitch_only) {
          api::PreprocessOptions o;
          o.step = step;
          o.jobs = jobs;
          o.transpose = transpose;
          o.key_symbol = key_symbol;
          o.meter_symbol = meter_symbol;
          o.barlines = barlines;
          o.countdown_bars = countdown_bars;
          o.triplets = triplets;
          o.final_mark = final_mark;
          o.countdown_key = countdown_key;
          o.per_note = per_note;
          o.pitch_only = pitch_only;
          py::gil_scoped_release release;
          return api::preprocess(inputs, out, o).line;
        }, py::arg("inputs"), py::arg("out"), py::arg("step") = 0.25, py::arg("jobs") = 0, py::arg("transpose") = true,
        py::arg("key_symbol") = false, py::arg("meter_symbol") = false, py::arg("barlines") = false,
        py::arg("countdown_bars") = 0, py::arg("triplets") = false,
        py::arg("final_mark") = false, py::arg("countdown_key") = false,
        py::arg("per_note") = false, py::arg("pitch_only") = false, "Song files/folders -> a dataset folder; returns the summary line");
  // progress(epoch) runs on the training thread; pybind11 takes the GIL for each call.
  m.def("train", [](const std::string& data, const std::string& out, int hidden, int layers, int epochs, uint64_t seed,
                    int threads, std::function<void(const api::Epoch&)> progress) {
          api::TrainOptions o;
          o.hidden = hidden; o.layers = layers; o.epochs = epochs; o.seed = seed; o.threads = threads;
          o.progress = std::move(progress);
          py::gil_scoped_release release;
          return api::train(data, out, o).best_val_loss;
        }, py::arg("data"), py::arg("out"), py::arg("hidden") = 256, py::arg("layers") = 1, py::arg("epochs") = 70,
        py::arg("seed") = 1, py::arg("threads") = 0, py::arg("progress") = nullptr,
        "Trains a model folder from a dataset folder; returns the best validation loss (nats per symbol)");
  m.def("bundled", &api::Model::bundled, py::arg("name") = "essen-german", "A bundled model by name (default essen-german)");
  m.def("read", [](const std::string& path) { return api::read_song(path); }, py::arg("path"));
}
