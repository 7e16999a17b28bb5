// MusicXML writer over pugixml (the document tree and its escaping) and libzip (the .mxl container).
#include "formats/musicxml_writer.h"

#include <zip.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <pugixml.hpp>
#include <sstream>

#include "util/error.h"

namespace melodist {

namespace {

const char* type_name(Rational value) {
  if (value == Rational(8)) return "breve";
  if (value == Rational(4)) return "whole";
  if (value == Rational(2)) return "half";
  if (value == Rational(1)) return "quarter";
  if (value == Rational(1, 2)) return "eighth";
  if (value == Rational(1, 4)) return "16th";
  if (value == Rational(1, 8)) return "32nd";
  return "64th";
}

// Divisions per quarter: the least that makes every note a whole number of divisions.
int64_t divisions_of(const Score& s) {
  int64_t d = 1;
  for (const Measure& m : s.measures)
    for (const WrittenNote& n : m.notes) d = std::lcm(d, n.duration.den);
  return d;
}

std::string number_text(double v) {
  char buf[32];
  if (std::abs(v - std::round(v)) < 1e-9) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

void add_text(pugi::xml_node parent, const char* name, const std::string& text) {
  parent.append_child(name).text().set(text.c_str());
}

void add_attributes(pugi::xml_node measure, const Score& s, int64_t divisions) {
  pugi::xml_node a = measure.append_child("attributes");
  add_text(a, "divisions", std::to_string(divisions));
  pugi::xml_node key = a.append_child("key");
  add_text(key, "fifths", std::to_string(s.fifths));
  add_text(key, "mode", s.key.minor ? "minor" : "major");
  pugi::xml_node time = a.append_child("time");
  add_text(time, "beats", std::to_string(s.meter.numerator));
  add_text(time, "beat-type", std::to_string(s.meter.denominator));
  pugi::xml_node clef = a.append_child("clef");
  add_text(clef, "sign", "G");
  add_text(clef, "line", "2");
  pugi::xml_node dir = measure.append_child("direction");
  dir.append_attribute("placement") = "above";
  pugi::xml_node metronome = dir.append_child("direction-type").append_child("metronome");
  add_text(metronome, "beat-unit", "quarter");
  add_text(metronome, "per-minute", number_text(s.bpm));
  dir.append_child("sound").append_attribute("tempo") = number_text(s.bpm).c_str();
}

// Element order inside <note> follows the schema: pitch|rest, duration, tie, voice, type, dot,
// accidental, time-modification, notations.
void add_note(pugi::xml_node measure, const WrittenNote& n, int64_t divisions) {
  pugi::xml_node note = measure.append_child("note");
  if (n.pitch == kRest) {
    note.append_child("rest");
  } else {
    pugi::xml_node p = note.append_child("pitch");
    add_text(p, "step", std::string(1, n.spelled.letter));
    if (n.spelled.alter != 0) add_text(p, "alter", std::to_string(n.spelled.alter));
    add_text(p, "octave", std::to_string(n.spelled.octave));
  }
  const Rational d = n.duration * Rational(divisions);
  add_text(note, "duration", std::to_string(d.num));
  const bool tie_stop = n.pitch != kRest && n.tie_stop, tie_start = n.pitch != kRest && n.tie_start;
  if (tie_stop) note.append_child("tie").append_attribute("type") = "stop";
  if (tie_start) note.append_child("tie").append_attribute("type") = "start";
  add_text(note, "voice", "1");
  add_text(note, "type", type_name(n.value));
  for (int i = 0; i < n.dots; ++i) note.append_child("dot");
  if (n.pitch != kRest && n.show_accidental)
    add_text(note, "accidental", n.spelled.alter > 0 ? "sharp" : n.spelled.alter < 0 ? "flat" : "natural");
  if (n.tuplet) {
    pugi::xml_node tm = note.append_child("time-modification");
    add_text(tm, "actual-notes", "3");
    add_text(tm, "normal-notes", "2");
  }
  if (tie_stop || tie_start || n.tuplet_start || n.tuplet_stop) {
    pugi::xml_node notations = note.append_child("notations");
    if (tie_stop) notations.append_child("tied").append_attribute("type") = "stop";
    if (tie_start) notations.append_child("tied").append_attribute("type") = "start";
    if (n.tuplet_start) notations.append_child("tuplet").append_attribute("type") = "start";
    if (n.tuplet_stop) notations.append_child("tuplet").append_attribute("type") = "stop";
  }
}

}  // namespace

std::string write_musicxml(const Melody& melody, const NotationOptions& options, const std::string& title) {
  const Score s = lay_out(melody, options);
  const int64_t divisions = divisions_of(s);
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  decl.append_attribute("standalone") = "no";
  doc.append_child(pugi::node_doctype)
      .set_value("score-partwise PUBLIC \"-//Recordare//DTD MusicXML 4.0 Partwise//EN\" "
                 "\"http://www.musicxml.org/dtds/partwise.dtd\"");
  pugi::xml_node score = doc.append_child("score-partwise");
  score.append_attribute("version") = "4.0";
  add_text(score.append_child("work"), "work-title", title.empty() ? "melodist" : title);
  add_text(score.append_child("identification").append_child("encoding"), "software", "melodist");
  pugi::xml_node sp = score.append_child("part-list").append_child("score-part");
  sp.append_attribute("id") = "P1";
  add_text(sp, "part-name", "Melody");
  pugi::xml_node instrument = sp.append_child("score-instrument");
  instrument.append_attribute("id") = "P1-I1";
  add_text(instrument, "instrument-name", "Melody");
  pugi::xml_node part = score.append_child("part");
  part.append_attribute("id") = "P1";
  int number = s.pickup > Rational(0) ? 0 : 1;
  for (size_t i = 0; i < s.measures.size(); ++i, ++number) {
    const Measure& m = s.measures[i];
    pugi::xml_node measure = part.append_child("measure");
    measure.append_attribute("number") = std::to_string(number).c_str();
    if (m.pickup) measure.append_attribute("implicit") = "yes";
    if (i == 0) add_attributes(measure, s, divisions);
    for (const WrittenNote& n : m.notes) add_note(measure, n, divisions);
    if (i + 1 == s.measures.size()) {
      pugi::xml_node bar = measure.append_child("barline");
      bar.append_attribute("location") = "right";
      add_text(bar, "bar-style", "light-heavy");
    }
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

namespace {

struct ZipArchive {
  zip_source_t* memory = nullptr;
  zip_t* archive = nullptr;
  ~ZipArchive() {
    if (archive) zip_discard(archive);
    if (memory) zip_source_free(memory);
  }
};

[[noreturn]] void zip_failure(const char* what, zip_error_t* error) {
  std::string message = std::string(".mxl: ") + what + ": " + zip_error_strerror(error);
  zip_error_fini(error);
  throw Error(message);
}

void add_entry(zip_t* archive, const char* name, const std::string& data, bool store) {
  zip_source_t* source = zip_source_buffer(archive, data.data(), data.size(), 0);
  if (!source) throw Error(std::string(".mxl: cannot add ") + name + ": " + zip_strerror(archive));
  const zip_int64_t index = zip_file_add(archive, name, source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);
    throw Error(std::string(".mxl: cannot add ") + name + ": " + zip_strerror(archive));
  }
  zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9);
  // A fixed time (2020-01-01 12:00 local; DOS time has no zone) so the same melody gives the same bytes.
  zip_file_set_dostime(archive, static_cast<zip_uint64_t>(index), 0x6000, 0x5021, 0);
}

}  // namespace

std::string write_mxl(const Melody& melody, const NotationOptions& options, const std::string& title) {
  const std::string score = write_musicxml(melody, options, title);
  static const std::string kMimetype = "application/vnd.recordare.musicxml";
  static const std::string kContainer =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<container>\n"
      "  <rootfiles>\n"
      "    <rootfile full-path=\"score.musicxml\" media-type=\"application/vnd.recordare.musicxml+xml\"/>\n"
      "  </rootfiles>\n"
      "</container>\n";
  zip_error_t error;
  zip_error_init(&error);
  ZipArchive z;
  z.memory = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!z.memory) zip_failure("cannot create the archive", &error);
  zip_source_keep(z.memory);
  z.archive = zip_open_from_source(z.memory, ZIP_TRUNCATE, &error);
  if (!z.archive) zip_failure("cannot open the archive", &error);
  add_entry(z.archive, "mimetype", kMimetype, true);  // first and stored, as the container spec asks
  add_entry(z.archive, "META-INF/container.xml", kContainer, false);
  add_entry(z.archive, "score.musicxml", score, false);
  if (zip_close(z.archive) < 0) throw Error(std::string(".mxl: cannot write the archive: ") + zip_strerror(z.archive));
  z.archive = nullptr;
  std::string bytes;
  if (zip_source_open(z.memory) < 0) throw Error(".mxl: cannot read the archive back");
  zip_source_seek(z.memory, 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(z.memory);
  zip_source_seek(z.memory, 0, SEEK_SET);
  bytes.resize(static_cast<size_t>(size > 0 ? size : 0));
  const zip_int64_t got = zip_source_read(z.memory, bytes.data(), bytes.size());
  zip_source_close(z.memory);
  if (got != size) throw Error(".mxl: cannot read the archive back");
  zip_error_fini(&error);
  return bytes;
}

}  // namespace melodist
