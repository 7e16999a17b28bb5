#include "formats/keras_h5.h"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "formats/mapping_json.h"
#include "formats/text_encoding.h"
#include "util/atomic_file.h"
#include "util/error.h"
#include "util/subprocess.h"

namespace melodist {

namespace {

constexpr const char* kNotHdf5 = "not an HDF5 file (expected a Keras model saved with model.save(\"model.h5\"))";

// ---- HDF5 C API, owned handles -------------------------------------------------------------------

// Closes an hid_t with its matching H5?close on scope exit.
struct Handle {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Handle(hid_t id_, herr_t (*close_)(hid_t)) : id(id_), close(close_) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (id >= 0 && close) close(id);
  }
  bool ok() const { return id >= 0; }
};

// True when every component of the slash-separated path exists below `loc` (H5Lexists needs the
// intermediate links to exist, so test them one by one).
bool path_exists(hid_t loc, const std::string& path) {
  size_t pos = 0;
  while (true) {
    size_t next = path.find('/', pos);
    std::string prefix = path.substr(0, next);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

// Reads a string attribute (scalar or 1-element; fixed or variable length). nullopt when absent.
std::optional<std::string> read_string_attribute(hid_t object, const char* name, const std::string& file) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id), H5Tclose);
  Handle space(H5Aget_space(attr.id), H5Sclose);
  if (!attr.ok() || !type.ok() || !space.ok()) throw file_error(file, 0, std::string("cannot read the attribute ") + name);
  if (H5Tget_class(type.id) != H5T_STRING || H5Sget_simple_extent_npoints(space.id) != 1)
    throw file_error(file, 0, std::string("attribute ") + name + " is not a string");
  if (H5Tis_variable_str(type.id) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    H5Tset_cset(mem.id, H5Tget_cset(type.id));
    char* text = nullptr;
    if (H5Aread(attr.id, mem.id, &text) < 0 || !text) throw file_error(file, 0, std::string("cannot read the attribute ") + name);
    std::string out(text);
    H5free_memory(text);
    return out;
  }
  // One byte more than stored: a null-padded string of exactly `size` bytes (np.bytes_, as Keras 2.2.4
  // wrote) would lose its last character converting to a null-terminated one of the same size.
  const size_t size = H5Tget_size(type.id) + 1;
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.id, size);
  std::string out(size, '\0');
  if (H5Aread(attr.id, mem.id, out.data()) < 0) throw file_error(file, 0, std::string("cannot read the attribute ") + name);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Reads an attribute that is an array of strings (Keras's weight_names / layer_names). A layer without
// weights stores an empty float array: returns {} for any non-string or empty attribute.
std::optional<std::vector<std::string>> read_string_list_attribute(hid_t object, const char* name, const std::string& file) {
  if (H5Aexists(object, name) <= 0) return std::nullopt;
  Handle attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  Handle type(H5Aget_type(attr.id), H5Tclose);
  Handle space(H5Aget_space(attr.id), H5Sclose);
  if (!attr.ok() || !type.ok() || !space.ok()) throw file_error(file, 0, std::string("cannot read the attribute ") + name);
  std::vector<std::string> out;
  const hssize_t n = H5Sget_simple_extent_npoints(space.id);
  if (H5Tget_class(type.id) != H5T_STRING || n <= 0) return out;
  if (H5Tis_variable_str(type.id) > 0) {
    Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mem.id, H5T_VARIABLE);
    std::vector<char*> texts(n, nullptr);
    if (H5Aread(attr.id, mem.id, texts.data()) < 0) throw file_error(file, 0, std::string("cannot read the attribute ") + name);
    for (char* t : texts) {
      out.emplace_back(t ? t : "");
      if (t) H5free_memory(t);
    }
    return out;
  }
  const size_t size = H5Tget_size(type.id) + 1;  // + 1: see read_string_attribute
  Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(mem.id, size);
  std::string buffer(size * n, '\0');
  if (H5Aread(attr.id, mem.id, buffer.data()) < 0) throw file_error(file, 0, std::string("cannot read the attribute ") + name);
  for (hssize_t i = 0; i < n; ++i) {
    std::string s = buffer.substr(i * size, size);
    s.resize(std::strlen(s.c_str()));
    out.push_back(s);
  }
  return out;
}

// ---- model_config ---------------------------------------------------------------------------------

struct LayerSpec {
  std::string name;
  std::string class_name;
  nlohmann::json config;
};

std::string describe(const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// The layer list of a Sequential or functional Model config; a functional model must be a chain
// (each layer fed by the one before it), which is what a Sequential model is.
std::vector<LayerSpec> model_layers(const nlohmann::json& model_config, const std::string& file) {
  if (!model_config.is_object() || !model_config.contains("class_name") || !model_config["class_name"].is_string())
    throw file_error(file, 0, "model_config has no class_name");
  const std::string cls = model_config["class_name"];
  const nlohmann::json& config = model_config.contains("config") ? model_config["config"] : nlohmann::json();
  const bool sequential = cls == "Sequential";
  if (!sequential && cls != "Model" && cls != "Functional")
    throw file_error(file, 0, "model class \"" + cls + "\" is not supported (melodist imports Sequential and functional Model files)");
  // Keras <= 2.2.2 wrote a Sequential's config as the bare layer list.
  const nlohmann::json& list = config.is_array() ? config : (config.is_object() && config.contains("layers") ? config["layers"] : nlohmann::json());
  if (!list.is_array() || list.empty()) throw file_error(file, 0, "model_config lists no layers");
  std::vector<LayerSpec> layers;
  for (const auto& layer : list) {
    if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string() || !layer.contains("config") ||
        !layer["config"].is_object())
      throw file_error(file, 0, "model_config has a malformed layer entry");
    LayerSpec spec;
    spec.class_name = layer["class_name"];
    spec.config = layer["config"];
    if (spec.config.contains("name") && spec.config["name"].is_string()) spec.name = spec.config["name"];
    else if (layer.contains("name") && layer["name"].is_string()) spec.name = layer["name"];
    else throw file_error(file, 0, "model_config has a " + spec.class_name + " layer without a name");
    layers.push_back(std::move(spec));
  }
  if (!sequential) {
    // inbound_nodes: [[[inbound_layer, node_index, tensor_index, kwargs], ...], ...] (one node, one input).
    for (size_t i = 0; i < list.size(); ++i) {
      const nlohmann::json nodes = list[i].value("inbound_nodes", nlohmann::json::array());
      if (i == 0) {
        if (!nodes.empty() || layers[0].class_name != "InputLayer")
          throw file_error(file, 0, "model is not a simple chain of layers (the first layer \"" + layers[0].name + "\" is not its input)");
        continue;
      }
      const bool chain = nodes.is_array() && nodes.size() == 1 && nodes[0].is_array() && nodes[0].size() == 1 &&
                         nodes[0][0].is_array() && !nodes[0][0].empty() && nodes[0][0][0] == layers[i - 1].name;
      if (!chain)
        throw file_error(file, 0, "model is not a simple chain of layers (layer \"" + layers[i].name + "\" is not fed by \"" +
                                      layers[i - 1].name + "\" alone)");
    }
  }
  return layers;
}

// The option values a layer must have, checked with a message naming layer and option.
void require_option(const LayerSpec& layer, const char* key, const nlohmann::json& wanted, const std::string& file) {
  if (!layer.config.contains(key)) return;  // absent = Keras default, which is the wanted value
  if (layer.config[key] != wanted)
    throw file_error(file, 0, layer.class_name + " layer \"" + layer.name + "\" has " + key + "=" + describe(layer.config[key]) +
                                  ", which melodist does not support (it needs " + key + "=" + describe(wanted) + ")");
}

int positive_units(const LayerSpec& layer, const std::string& file) {
  if (!layer.config.contains("units") || !layer.config["units"].is_number_integer())
    throw file_error(file, 0, layer.class_name + " layer \"" + layer.name + "\" has no units");
  const int units = layer.config["units"];
  if (units <= 0 || units > 65536) throw file_error(file, 0, layer.class_name + " layer \"" + layer.name + "\" has " + std::to_string(units) + " units");
  return units;
}

// Last dimension of a batch_input_shape ([null, null, V]), or -1 when not stated.
int input_width(const LayerSpec& layer) {
  for (const char* key : {"batch_input_shape", "batch_shape"}) {
    if (layer.config.contains(key) && layer.config[key].is_array() && !layer.config[key].empty() &&
        layer.config[key].back().is_number_integer())
      return layer.config[key].back();
  }
  return -1;
}

// ---- weights --------------------------------------------------------------------------------------

// Finds the dataset of weight `short_name` ("kernel", "recurrent_kernel", "bias") of a layer: through
// the group's weight_names attribute (names like "lstm/kernel:0", relative to the group), or at the
// conventional path model_weights/<layer>/<layer>/<short_name>:0.
std::string weight_path(hid_t file_id, const std::string& layer, const std::string& short_name, const std::string& file) {
  const std::string group = "model_weights/" + layer;
  if (!path_exists(file_id, group)) throw file_error(file, 0, "layer \"" + layer + "\" has no weights (no group " + group + ")");
  Handle g(H5Gopen2(file_id, group.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.ok()) throw file_error(file, 0, "cannot open " + group);
  auto names = read_string_list_attribute(g.id, "weight_names", file);
  std::string path = group + "/" + layer + "/" + short_name + ":0";
  if (names) {
    for (const auto& n : *names) {
      std::string base = n.substr(n.rfind('/') == std::string::npos ? 0 : n.rfind('/') + 1);
      if (base == short_name + ":0" || base == short_name) path = group + "/" + n;
    }
  }
  if (!path_exists(file_id, path))
    throw file_error(file, 0, "layer \"" + layer + "\" has no weight \"" + short_name + "\" (" + path + " is missing)");
  return path;
}

// Reads a float dataset as stored (shape and values; the caller checks the shape against the model).
void read_weight(hid_t file_id, KerasWeight& weight, const std::string& file) {
  const std::string& layer = weight.layer;
  const std::string path = weight_path(file_id, layer, weight.name, file);
  Handle dataset(H5Dopen2(file_id, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) throw file_error(file, 0, "layer \"" + layer + "\": " + path + " is not a dataset");
  Handle space(H5Dget_space(dataset.id), H5Sclose);
  Handle type(H5Dget_type(dataset.id), H5Tclose);
  const int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank < 0 || rank > kMaxWeightRank) throw file_error(file, 0, "layer \"" + layer + "\": cannot read the shape of " + path);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  uint64_t count = 1;
  for (hsize_t d : dims) {
    if (d != 0 && count > kMaxWeightValues / d) throw file_error(file, 0, "layer \"" + layer + "\": " + path + " is larger than melodist imports");
    count *= d;
  }
  if (count > kMaxWeightValues) throw file_error(file, 0, "layer \"" + layer + "\": " + path + " is larger than melodist imports");
  weight.shape.assign(dims.begin(), dims.end());
  if (H5Tget_class(type.id) != H5T_FLOAT) throw file_error(file, 0, "layer \"" + layer + "\": weight \"" + weight.name + "\" is not floating point");
  weight.values.assign(count, 0.0f);
  if (count > 0 && H5Dread(dataset.id, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, weight.values.data()) < 0)
    throw file_error(file, 0, "layer \"" + layer + "\": cannot read " + path + " (damaged file?)");
}

bool valid_symbol(const std::string& s) {
  if (s == kDelimiterSymbol || s == "_" || s == "r") return true;
  if (s.empty() || s.size() > 3 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  return std::stoi(s) <= 127;
}

// ---- architecture: [InputLayer] (LSTM Dropout*)+ Dense(softmax) ----------------------------------

struct Architecture {
  std::vector<const LayerSpec*> lstms;
  const LayerSpec* dense = nullptr;
  RecurrentActivation activation = RecurrentActivation::sigmoid;
  float dropout = 0.0f;
  int declared_input = -1;  // V as the input layer states it
  std::vector<KerasLayer> summaries;
};

void check_lstm(const LayerSpec& layer, Architecture& a, std::optional<RecurrentActivation>& activation, KerasLayer& summary,
                const std::string& file) {
  const std::string where = layer.class_name + " layer \"" + layer.name + "\"";
  if (a.lstms.empty() && input_width(layer) > 0) a.declared_input = input_width(layer);
  summary.units = positive_units(layer, file);
  require_option(layer, "activation", "tanh", file);
  require_option(layer, "use_bias", true, file);
  require_option(layer, "go_backwards", false, file);
  require_option(layer, "return_state", false, file);
  require_option(layer, "time_major", false, file);
  if (!layer.config.contains("recurrent_activation") || !layer.config["recurrent_activation"].is_string())
    throw file_error(file, 0, where + " has no recurrent_activation");
  const std::string ra = layer.config["recurrent_activation"];
  if (ra != "sigmoid" && ra != "hard_sigmoid")
    throw file_error(file, 0, where + " has recurrent_activation=" + ra + ", which melodist does not support (sigmoid or hard_sigmoid)");
  const RecurrentActivation this_activation = parse_recurrent_activation(ra);
  if (activation && *activation != this_activation)
    throw file_error(file, 0, where + " has recurrent_activation=" + ra + " unlike the LSTM layer below it (melodist needs one for all layers)");
  activation = this_activation;
  if (!a.lstms.empty() && positive_units(*a.lstms.back(), file) != summary.units)
    throw file_error(file, 0, where + " has " + std::to_string(summary.units) + " units, the LSTM layer below it " +
                                  std::to_string(positive_units(*a.lstms.back(), file)) + " (melodist needs equal units in all LSTM layers)");
  if (!a.lstms.empty() && !a.lstms.back()->config.value("return_sequences", false))
    throw file_error(file, 0, "LSTM layer \"" + a.lstms.back()->name + "\" has return_sequences=false but feeds another LSTM layer");
  a.lstms.push_back(&layer);
  summary.detail = "activation tanh, recurrent_activation " + ra +
                   ", return_sequences " + (layer.config.value("return_sequences", false) ? "true" : "false");
}

Architecture check_architecture(const std::vector<LayerSpec>& layers, const std::string& file) {
  Architecture a;
  std::optional<RecurrentActivation> activation;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerSpec& layer = layers[i];
    const std::string where = layer.class_name + " layer \"" + layer.name + "\"";
    KerasLayer summary{layer.name, layer.class_name, 0, ""};
    if (a.dense) throw file_error(file, 0, where + " follows the Dense output layer (melodist needs Dense softmax to be the last layer)");
    if (layer.class_name == "InputLayer") {
      if (i != 0) throw file_error(file, 0, where + " is not the first layer");
      a.declared_input = input_width(layer);
      summary.detail = "input width " + (a.declared_input > 0 ? std::to_string(a.declared_input) : std::string("unknown"));
    } else if (layer.class_name == "LSTM") {
      check_lstm(layer, a, activation, summary, file);
    } else if (layer.class_name == "Dropout") {
      if (a.lstms.empty()) throw file_error(file, 0, where + " comes before the first LSTM layer (melodist applies dropout to LSTM outputs only)");
      if (!layer.config.contains("rate") || !layer.config["rate"].is_number())
        throw file_error(file, 0, where + " has no rate");
      a.dropout = layer.config["rate"].get<float>();
      if (!(a.dropout >= 0.0f && a.dropout < 1.0f)) throw file_error(file, 0, where + " has rate " + describe(layer.config["rate"]));
      summary.detail = "rate " + describe(layer.config["rate"]) + " (training only)";
    } else if (layer.class_name == "Dense") {
      if (a.lstms.empty()) throw file_error(file, 0, where + " comes before any LSTM layer");
      summary.units = positive_units(layer, file);
      require_option(layer, "activation", "softmax", file);
      require_option(layer, "use_bias", true, file);
      if (!layer.config.contains("activation")) throw file_error(file, 0, where + " has no activation (melodist needs softmax)");
      a.dense = &layer;
      summary.detail = "activation softmax";
    } else {
      throw file_error(file, 0, "layer \"" + layer.name + "\" of type " + layer.class_name +
                                    " is not supported (melodist imports LSTM, Dropout and one Dense softmax layer)");
    }
    a.summaries.push_back(std::move(summary));
  }
  if (a.lstms.empty()) throw file_error(file, 0, "model has no LSTM layer");
  if (!a.dense) throw file_error(file, 0, "model has no Dense softmax output layer");
  if (activation) a.activation = *activation;
  return a;
}

// ---- weights from the child's reply ---------------------------------------------------------------

std::string shape_text(const std::vector<uint64_t>& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

// Copies weight `name` of `layer` into `out` after checking that it was read and has `shape`.
void copy_weight(const KerasFileContents& contents, const std::string& layer, const std::string& name, const std::vector<uint64_t>& shape,
                 float* out, const std::string& file) {
  for (const KerasWeight& w : contents.weights) {
    if (w.layer != layer || w.name != name) continue;
    if (!w.error.empty()) throw Error(w.error);
    if (w.shape != shape)
      throw file_error(file, 0, "layer \"" + layer + "\": weight \"" + name + "\" has shape " + shape_text(w.shape) + ", expected " + shape_text(shape));
    std::copy(w.values.begin(), w.values.end(), out);  // values.size() == product of shape (decode_keras_contents)
    return;
  }
  throw file_error(file, 0, "layer \"" + layer + "\" has no weight \"" + name + "\"");
}

// ---- the child's reply ----------------------------------------------------------------------------

constexpr std::string_view kReplyMagic = "MKH5\x01";
constexpr uint64_t kMaxReplyString = uint64_t{64} << 20;  // model_config of a huge model stays far below
constexpr size_t kMaxMessage = 2000;

class ReplyWriter {
 public:
  std::string out{kReplyMagic};
  template <typename T>
  void number(T value) { out.append(reinterpret_cast<const char*>(&value), sizeof value); }
  void string(const std::string& s) {
    number(static_cast<uint32_t>(s.size()));
    out += s;
  }
  void record(char tag, uint64_t length) {
    out += tag;
    number(length);
  }
  static uint64_t string_size(const std::string& s) { return 4 + s.size(); }
};

// At most kMaxMessage bytes with control characters (a newline among them) replaced: one line.
std::string printable(std::string_view text) {
  std::string m(text.substr(0, kMaxMessage));
  for (char& c : m)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return m;
}

// A message from the child as a one-line message naming the file.
std::string clean_message(std::string_view text, const std::string& file) {
  std::string m = printable(text);
  if (m.compare(0, file.size() + 2, file + ": ") != 0) m = file + ": " + m;
  return m;
}

class ReplyReader {
 public:
  ReplyReader(std::string_view bytes, const std::string& file) : rest_(bytes), file_(file) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw file_error(file_, 0, "not a readable Keras HDF5 file (malformed reply from the reading process: " + what + ")");
  }
  bool empty() const { return rest_.empty(); }
  size_t size() const { return rest_.size(); }
  std::string_view bytes(uint64_t n, const char* what) {
    if (n > rest_.size()) fail(std::string(what) + " runs past the end");
    std::string_view b = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return b;
  }
  template <typename T>
  T number(const char* what) {
    T value;
    std::memcpy(&value, bytes(sizeof value, what).data(), sizeof value);
    return value;
  }
  std::string string(uint64_t max, const char* what) {
    const uint32_t n = number<uint32_t>(what);
    if (n > max) fail(std::string(what) + " of " + std::to_string(n) + " bytes");
    return std::string(bytes(n, what));
  }

 private:
  std::string_view rest_;
  const std::string& file_;
};

constexpr const char* kAttributes[] = {"model_config", "keras_version", "backend", "training_config"};
constexpr const char* kWeightNames[] = {"kernel", "recurrent_kernel", "bias"};

template <typename Contents>  // KerasFileContents, const or not
auto attribute_slot(Contents& c, const std::string& name) -> decltype(&c.model_config) {
  if (name == "model_config") return &c.model_config;
  if (name == "keras_version") return &c.keras_version;
  if (name == "backend") return &c.backend;
  if (name == "training_config") return &c.training_config;
  return nullptr;
}

// A 'w' or 'x' record's payload into `contents`.
void decode_weight(ReplyReader& p, bool is_error, KerasFileContents& contents, const std::string& file) {
  KerasWeight w;
  w.layer = p.string(4096, "a layer name");
  w.name = p.string(64, "a weight name");
  if (std::find(std::begin(kWeightNames), std::end(kWeightNames), w.name) == std::end(kWeightNames)) p.fail("weight name \"" + printable(w.name) + "\"");
  for (const KerasWeight& seen : contents.weights)
    if (seen.layer == w.layer && seen.name == w.name) p.fail("weight " + w.name + " of a layer given twice");
  if (is_error) {
    w.error = clean_message(p.string(kMaxReplyString, "a message"), file);
  } else {
    const uint32_t rank = p.number<uint32_t>("a rank");
    if (rank > kMaxWeightRank) p.fail("rank " + std::to_string(rank));
    uint64_t count = 1;
    for (uint32_t i = 0; i < rank; ++i) {
      const uint64_t d = p.number<uint64_t>("a dimension");
      if (d != 0 && count > kMaxWeightValues / d) p.fail("a weight larger than melodist imports");
      count *= d;
      w.shape.push_back(d);
    }
    if (count > kMaxWeightValues || p.size() != count * sizeof(float)) p.fail("a weight whose values do not match its shape");
    w.values.resize(count);
    if (count > 0) std::memcpy(w.values.data(), p.bytes(count * sizeof(float), "values").data(), count * sizeof(float));
  }
  if (!p.empty()) p.fail("bytes after a record");
  contents.weights.push_back(std::move(w));
}

// How the child ended as a reason ("the HDF5 reading process crashed (signal 11, Segmentation fault)"),
// with the last line it wrote on standard error where there is one.
std::string child_failure(const SubprocessResult& r, const SubprocessLimits& limits) {
  std::string reason = "the HDF5 reading process " + r.describe(limits);
  std::string_view said = r.diagnostics;
  while (!said.empty() && (said.back() == '\n' || said.back() == '\r' || said.back() == ' ')) said.remove_suffix(1);
  if (const size_t nl = said.rfind('\n'); nl != std::string_view::npos) said.remove_prefix(nl + 1);
  if (!said.empty()) reason += "; it said: " + printable(said.substr(0, 200));
  return reason;
}

KerasFileContents read_in_child(const std::string& h5_path, std::chrono::milliseconds timeout) {
  SubprocessLimits limits;
  limits.timeout = timeout;
  limits.max_output = size_t{4} << 30;
  const SubprocessResult r = run_in_subprocess(
      [&](int fd) {
        std::string reply;
        try {
          reply = encode_keras_contents(read_keras_file_contents(h5_path));
        } catch (const Error& e) {
          reply = encode_keras_error(e.what());
        } catch (const std::bad_alloc&) {
          reply = encode_keras_error(h5_path + ": out of memory while reading it");
        } catch (const std::exception& e) {
          reply = encode_keras_error(h5_path + ": " + e.what());
        }
        if (!write_all(fd, reply.data(), reply.size())) throw Error("cannot write the reply");
      },
      limits);
  if (!r.succeeded()) throw file_error(h5_path, 0, "not a readable Keras HDF5 file (" + child_failure(r, limits) + ")");
  return decode_keras_contents(r.output, h5_path);
}

}  // namespace

std::vector<std::string> read_keras_mapping(const std::string& mapping_path) {
  MappingRules rules;
  rules.symbol_ok = valid_symbol;
  rules.symbol_rule = "the text encoding (MIDI 0..127, \"r\", \"_\", \"/\")";
  return parse_mapping_json(read_file(mapping_path), mapping_path, rules);
}

std::string encode_keras_contents(const KerasFileContents& contents) {
  ReplyWriter w;
  for (const char* name : kAttributes) {
    const std::optional<std::string>* value = attribute_slot(contents, name);
    if (!*value) continue;
    w.record('a', ReplyWriter::string_size(name) + ReplyWriter::string_size(**value));
    w.string(name);
    w.string(**value);
  }
  for (const KerasWeight& weight : contents.weights) {
    const uint64_t names = ReplyWriter::string_size(weight.layer) + ReplyWriter::string_size(weight.name);
    if (!weight.error.empty()) {
      w.record('x', names + ReplyWriter::string_size(weight.error));
      w.string(weight.layer);
      w.string(weight.name);
      w.string(weight.error);
      continue;
    }
    w.record('w', names + 4 + 8 * weight.shape.size() + sizeof(float) * weight.values.size());
    w.string(weight.layer);
    w.string(weight.name);
    w.number(static_cast<uint32_t>(weight.shape.size()));
    for (uint64_t d : weight.shape) w.number(d);
    w.out.append(reinterpret_cast<const char*>(weight.values.data()), sizeof(float) * weight.values.size());
  }
  w.record('z', 0);
  return std::move(w.out);
}

std::string encode_keras_error(const std::string& message) {
  ReplyWriter w;
  w.record('e', message.size());
  w.out += message;
  w.record('z', 0);
  return std::move(w.out);
}

KerasFileContents decode_keras_contents(std::string_view reply, const std::string& h5_path) {
  ReplyReader r(reply, h5_path);
  if (r.bytes(std::min(reply.size(), kReplyMagic.size()), "the header") != kReplyMagic) r.fail("no MKH5 header");
  KerasFileContents contents;
  while (true) {
    if (r.empty()) r.fail("it ends before its end record");
    const char tag = r.number<char>("a tag");
    const uint64_t length = r.number<uint64_t>("a record length");
    ReplyReader p(r.bytes(length, "a record"), h5_path);
    if (tag == 'z') {
      if (length != 0 || !r.empty()) r.fail("bytes after the end record");
      return contents;
    }
    if (tag == 'e') throw Error(clean_message(p.bytes(length, "a message"), h5_path));
    if (tag == 'a') {
      const std::string name = p.string(64, "an attribute name");
      std::optional<std::string>* slot = attribute_slot(contents, name);
      if (!slot) p.fail("attribute \"" + printable(name) + "\"");
      if (*slot) p.fail("attribute " + name + " given twice");
      *slot = p.string(kMaxReplyString, "an attribute value");
      if (!p.empty()) p.fail("bytes after a record");
    } else if (tag == 'w' || tag == 'x') {
      decode_weight(p, tag == 'x', contents, h5_path);
    } else {
      r.fail("record tag " + std::to_string(static_cast<unsigned char>(tag)));
    }
  }
}

KerasFileContents read_keras_file_contents(const std::string& h5_path) {
  const std::string& file = h5_path;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become melodist::Error lines, not HDF5 stack dumps
  if (H5Fis_hdf5(h5_path.c_str()) <= 0) throw file_error(file, 0, kNotHdf5);
  Handle h5(H5Fopen(h5_path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!h5.ok()) throw file_error(file, 0, "cannot open the HDF5 file (truncated or damaged?)");
  KerasFileContents c;
  c.model_config = read_string_attribute(h5.id, "model_config", file);
  if (!c.model_config) return c;  // the parent says what is missing
  c.keras_version = read_string_attribute(h5.id, "keras_version", file);
  c.backend = read_string_attribute(h5.id, "backend", file);
  try {
    c.training_config = read_string_attribute(h5.id, "training_config", file);
  } catch (const Error&) {
    // informational only: a damaged training_config does not affect the network
  }
  std::vector<LayerSpec> layers;
  try {
    layers = model_layers(nlohmann::json::parse(*c.model_config), file);
  } catch (const std::exception&) {
    return c;  // the parent reports a malformed model_config
  }
  for (const LayerSpec& layer : layers) {
    std::vector<const char*> names;
    if (layer.class_name == "LSTM") names = {"kernel", "recurrent_kernel", "bias"};
    else if (layer.class_name == "Dense") names = {"kernel", "bias"};
    for (const char* name : names) {
      if (std::any_of(c.weights.begin(), c.weights.end(), [&](const KerasWeight& w) { return w.layer == layer.name && w.name == name; }))
        continue;  // a layer name given twice: the first one's weights
      KerasWeight w;
      w.layer = layer.name;
      w.name = name;
      try {
        read_weight(h5.id, w, file);
      } catch (const Error& e) {
        w.shape.clear();
        w.values.clear();
        w.error = e.what();
      }
      c.weights.push_back(std::move(w));
    }
  }
  return c;
}

void check_hdf5_superblock(const std::string& h5_path) {
  const std::string& file = h5_path;
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(h5_path, ec);
  if (ec) throw file_error(file, 0, "cannot read its size (" + ec.message() + ")");
  if (size > kMaxKerasFileBytes)
    throw file_error(file, 0, "is " + std::to_string(size) + " bytes, more than the " + std::to_string(kMaxKerasFileBytes >> 30) + " GiB melodist imports");
  std::ifstream in(h5_path, std::ios::binary);
  if (!in) throw file_error(file, 0, "cannot open it");
  // HDF5 file format specification 3.0, "Superblock": the signature at byte 0 or 512 * 2^n (after a
  // user block); fields follow it in one of two layouts (versions 0/1 and 2/3).
  unsigned char sb[96] = {};
  uint64_t at = 0;
  for (;; at = at == 0 ? 512 : at * 2) {
    if (at + 8 > size) throw file_error(file, 0, kNotHdf5);
    in.seekg(static_cast<std::streamoff>(at));
    in.read(reinterpret_cast<char*>(sb), sizeof sb);
    const size_t got = static_cast<size_t>(in.gcount());
    in.clear();
    if (got >= 8 && std::memcmp(sb, "\x89HDF\r\n\x1a\n", 8) == 0) {
      if (got < 48) throw file_error(file, 0, "is truncated or damaged (its HDF5 superblock is cut off)");
      break;
    }
  }
  const int version = sb[8];
  int offsets = 0, eof_field = 0;
  if (version == 0 || version == 1) offsets = sb[13], eof_field = (version == 0 ? 24 : 28) + 2 * offsets;
  else if (version == 2 || version == 3) offsets = sb[9], eof_field = 12 + 2 * offsets;
  else throw file_error(file, 0, "is damaged (unknown HDF5 superblock version " + std::to_string(version) + ")");
  if (offsets != 2 && offsets != 4 && offsets != 8 && offsets != 16)
    throw file_error(file, 0, "is damaged (HDF5 superblock gives " + std::to_string(offsets) + "-byte addresses)");
  if (offsets > 8 || eof_field + offsets > static_cast<int>(sizeof sb)) return;  // 16-byte addresses: left to the library
  auto address = [&](int field) {
    uint64_t a = 0;
    for (int i = offsets - 1; i >= 0; --i) a = a << 8 | sb[field + i];  // little-endian
    return a;
  };
  const uint64_t undefined = offsets == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * offsets)) - 1;
  const uint64_t base = address(eof_field - 2 * offsets), eof = address(eof_field);
  if (base == undefined || eof == undefined) return;
  if (base > size || eof > size - base)
    throw file_error(file, 0, "is truncated or damaged (its HDF5 superblock gives " + std::to_string(base + eof) + " bytes, the file has " +
                                  std::to_string(size) + ")");
}

KerasImport import_keras_contents(const KerasFileContents& contents, const std::string& h5_path, const std::string& mapping_path) {
  namespace fs = std::filesystem;
  const std::string& file = h5_path;
  KerasImport result;
  if (!contents.model_config)
    throw file_error(file, 0, "has no model_config attribute (a weights-only file? save the model with model.save(\"model.h5\"))");
  result.keras_version = contents.keras_version.value_or("unknown");
  result.backend = contents.backend.value_or("unknown");
  nlohmann::json model_config;
  try {
    model_config = nlohmann::json::parse(*contents.model_config);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(file, 0, std::string("model_config is not valid JSON: ") + e.what());
  }
  const std::vector<LayerSpec> layers = model_layers(model_config, file);
  Architecture a = check_architecture(layers, file);
  result.layers = std::move(a.summaries);

  // ---- vocabulary: the file's own ids ----
  const int V = positive_units(*a.dense, file);
  std::vector<std::string> vocabulary = read_keras_mapping(mapping_path);
  if (static_cast<int>(vocabulary.size()) != V)
    throw file_error(mapping_path, 0, std::to_string(vocabulary.size()) + " symbols, but the model's output layer \"" + a.dense->name + "\" has " +
                                          std::to_string(V) + " units (a mapping.json from another model?)");
  if (a.declared_input > 0 && a.declared_input != V)
    throw file_error(file, 0, "model input has width " + std::to_string(a.declared_input) + " but its output has " + std::to_string(V) +
                                  " units (melodist needs one-hot symbol inputs over the output vocabulary)");

  // ---- weights: Keras's layout is melodist's layout (nn/model.h), copied as stored ----
  Model& model = result.file.model;
  model.config.vocab_size = V;
  model.config.hidden_size = positive_units(*a.lstms[0], file);
  model.config.num_layers = static_cast<int>(a.lstms.size());
  model.config.dropout = a.dropout;
  model.config.recurrent_activation = a.activation;
  model.vocabulary = std::move(vocabulary);
  model.params.assign(parameter_count(model.config), 0.0f);
  const uint64_t H = model.config.hidden_size;
  ParameterViews views = parameter_views(model.config, model.params.data());
  for (size_t l = 0; l < a.lstms.size(); ++l) {
    const uint64_t E = views.lstm[l].input_size;
    copy_weight(contents, a.lstms[l]->name, "kernel", {E, 4 * H}, views.lstm[l].w_x, file);
    copy_weight(contents, a.lstms[l]->name, "recurrent_kernel", {H, 4 * H}, views.lstm[l].w_h, file);
    copy_weight(contents, a.lstms[l]->name, "bias", {4 * H}, views.lstm[l].b, file);
  }
  copy_weight(contents, a.dense->name, "kernel", {H, static_cast<uint64_t>(V)}, views.w_y, file);
  copy_weight(contents, a.dense->name, "bias", {static_cast<uint64_t>(V)}, views.b_y, file);
  for (float x : model.params)
    if (!std::isfinite(x)) throw file_error(file, 0, "weights contain NaN or infinity");

  // ---- metadata ----
  std::error_code ec;
  nlohmann::json keras_layers = nlohmann::json::array();
  for (const auto& l : result.layers) keras_layers.push_back({{"name", l.name}, {"class_name", l.class_name}, {"units", l.units}, {"detail", l.detail}});
  result.file.metadata = {{"source", "keras import"},
                          {"keras_version", result.keras_version},
                          {"backend", result.backend},
                          {"h5", fs::absolute(h5_path, ec).lexically_normal().string()},
                          {"mapping", fs::absolute(mapping_path, ec).lexically_normal().string()},
                          {"keras_layers", keras_layers},
                          // model.h5 does not record how songs were encoded; these are the Keras recipe's fixed
                          // settings (16th-note steps, its 8 durations, major -> C / minor -> A, 64 "/"), which
                          // `generate --primer-file` applies to a primer song.
                          {"preprocessing", {{"step", "1/4"},
                                             {"durations", "1/4,1/2,3/4,1,3/2,2,3,4"},
                                             {"transpose", "reference"},
                                             {"ties", "reattack"},
                                             {"delimiter_length", kDefaultDelimiterLength},
                                             {"assumed", "the Keras recipe's preprocessing (not recorded in model.h5)"}}}};
  if (contents.training_config) {
    try {
      result.file.metadata["keras_training_config"] = nlohmann::json::parse(*contents.training_config);
    } catch (const nlohmann::json::exception&) {
      // informational only; a malformed training_config does not affect the network
    }
  }
  return result;
}

KerasImport import_keras_model(const std::string& h5_path, const std::string& mapping_path, std::chrono::milliseconds timeout) {
  namespace fs = std::filesystem;
  const std::string& file = h5_path;
  std::error_code ec;
  if (!fs::exists(h5_path, ec)) throw file_error(file, 0, "no such file");
  if (!fs::is_regular_file(h5_path, ec)) throw file_error(file, 0, "not a regular file");
  if (!fs::exists(mapping_path, ec)) throw file_error(mapping_path, 0, "no such file");
  check_hdf5_superblock(h5_path);
  return import_keras_contents(read_in_child(h5_path, timeout), h5_path, mapping_path);
}

}  // namespace melodist
