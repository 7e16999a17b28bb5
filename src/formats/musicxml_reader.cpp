#include "formats/musicxml_reader.h"

#include <zip.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <pugixml.hpp>

#include "formats/meter_symbol.h"
#include "formats/midi_reader.h"
#include "util/error.h"

namespace melodist {

namespace {

// Caps that keep hostile input bounded: a repeat's times, and the notes of the expanded melody.
constexpr int kMaxRepeatTimes = 64;
constexpr size_t kMaxPlayedEvents = size_t(1) << 22;

// Line numbers from pugixml's byte offsets: the positions of every '\n' of the parsed text.
class LineIndex {
 public:
  explicit LineIndex(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') newlines_.push_back(i);
  }
  int line_of(ptrdiff_t offset) const {
    if (offset < 0) return 0;
    return int(std::upper_bound(newlines_.begin(), newlines_.end(), size_t(offset)) - newlines_.begin()) + 1;
  }

 private:
  std::vector<size_t> newlines_;
};

std::string trimmed(const char* text) {
  std::string_view s(text);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// One shown value in a message: at most 40 characters, control and non-ASCII bytes escaped.
std::string shown(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < 40; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  if (text.size() > 40) out += "...";
  return out;
}

// Parses one part's measures; every error names the file, the line and the measure.
class PartParser {
 public:
  PartParser(const std::string& path, const LineIndex& lines) : path_(path), lines_(lines) {}

  // `node` holds the content; `numbered` (the same node, or a timewise score's <measure>) the attributes.
  MusicXmlMeasure measure(const pugi::xml_node& node, const pugi::xml_node& numbered) {
    MusicXmlMeasure m;
    m.number = shown(numbered.attribute("number").value());
    m.line = lines_.line_of(numbered.offset_debug());
    m.implicit = std::string_view(numbered.attribute("implicit").value()) == "yes";
    measure_ = m.number;
    if (in_ending_) m.ending = ending_;
    bool end_ending = false;
    Rational pos(0);
    MusicXmlNote* last = nullptr;  // the previous note, the anchor of a <chord/>
    for (pugi::xml_node child : node.children()) {
      std::string_view name = child.name();
      if (name == "attributes") {
        attributes(child, m);
      } else if (name == "note") {
        m.notes.push_back(note(child, pos, last));
        last = &m.notes.back();
        if (!last->chord && !last->grace) pos += last->duration;
      } else if (name == "backup" || name == "forward") {
        Rational d = duration_of(child, true);
        pos = name == "backup" ? pos - d : pos + d;
        if (pos < Rational(0)) fail(child, "<backup> goes before the start of the measure");
        last = nullptr;
      } else if (name == "barline") {
        barline(child, m, end_ending);
      } else if (name == "direction" || name == "sound") {
        pugi::xml_node sound = name == "sound" ? child : child.child("sound");
        if (sound && sound.attribute("tempo") && !m.tempo_bpm) {
          double bpm = sound.attribute("tempo").as_double();
          if (bpm > 0 && bpm < 10000) m.tempo_bpm = bpm;
        }
      }
      m.length = std::max(m.length, pos);
    }
    if (end_ending) in_ending_ = false;
    return m;
  }

 private:
  [[noreturn]] void fail(const pugi::xml_node& node, const std::string& message) const {
    throw file_error(path_, lines_.line_of(node.offset_debug()), "measure " + measure_ + ": " + message);
  }

  int integer(const pugi::xml_node& node, int lo, int hi) const {
    std::string text = trimmed(node.child_value());
    char* end = nullptr;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < lo || v > hi)
      fail(node, "<" + std::string(node.name()) + "> \"" + shown(text) + "\" is not a whole number in " +
                     std::to_string(lo) + ".." + std::to_string(hi));
    return int(v);
  }

  Rational number(const pugi::xml_node& node) const {
    std::string text = trimmed(node.child_value());
    try {
      return parse_rational(text);
    } catch (const Error&) {
      fail(node, "<" + std::string(node.name()) + "> \"" + shown(text) + "\" is not a number");
    }
  }

  // <duration> of a note, backup or forward, in quarters.
  Rational duration_of(const pugi::xml_node& node, bool required) const {
    pugi::xml_node d = node.child("duration");
    if (!d) {
      if (required) fail(node, "<" + std::string(node.name()) + "> without <duration>");
      return Rational(0);
    }
    Rational value = number(d);
    if (value < Rational(0)) fail(d, "negative duration " + value.to_string());
    if (!divisions_) fail(d, "a duration before any <divisions>");
    try {
      return value / *divisions_;
    } catch (const Error& e) {
      fail(d, e.what());
    }
  }

  void attributes(const pugi::xml_node& node, MusicXmlMeasure& m) {
    if (pugi::xml_node d = node.child("divisions")) {
      Rational v = number(d);
      if (!(v > Rational(0))) fail(d, "<divisions> must be positive, not " + v.to_string());
      divisions_ = v;
    }
    if (pugi::xml_node t = node.child("transpose")) {
      chromatic_ = t.child("chromatic") ? integer(t.child("chromatic"), -24, 24) : 0;
      diatonic_ = t.child("diatonic") ? std::optional<int>(integer(t.child("diatonic"), -14, 14)) : std::nullopt;
      octave_change_ = t.child("octave-change") ? integer(t.child("octave-change"), -4, 4) : 0;
    }
    if (pugi::xml_node k = node.child("key"); k && k.child("fifths") && !m.key_fifths) {
      int fifths = integer(k.child("fifths"), -7, 7);
      // Sounding key: the written one moved by the transposition's interval in fifths. An interval of
      // d diatonic steps and c semitones is 7c - 12d fifths (a major second: 14 - 12 = 2).
      int shift = diatonic_ ? 7 * chromatic_ - 12 * *diatonic_ : 0;
      if (!diatonic_ && chromatic_ != 0) {
        shift = ((7 * chromatic_) % 12 + 12) % 12;  // no spelling given: the nearest signature
        if (fifths + shift > 6) shift -= 12;
      }
      m.key_fifths = std::clamp(fifths + shift, -7, 7);
      m.key_mode = trimmed(k.child("mode").child_value());
    }
    if (pugi::xml_node t = node.child("time"); t && t.child("beats") && !m.time) {
      // "3+2" beats are summed; several beats/beat-type pairs (composite meters) keep the first.
      std::string beats = trimmed(t.child("beats").child_value());
      int numerator = 0;
      size_t p = 0;
      while (p <= beats.size()) {
        size_t plus = beats.find('+', p);
        std::string part = beats.substr(p, plus == std::string::npos ? std::string::npos : plus - p);
        char* end = nullptr;
        long v = std::strtol(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || v < 1 || v > 1000) fail(t, "<beats> \"" + shown(beats) + "\" is not a meter");
        numerator += int(v);
        if (plus == std::string::npos) break;
        p = plus + 1;
      }
      m.time = TimeSignature{numerator, integer(t.child("beat-type"), 1, 1024)};
    }
  }

  MusicXmlNote note(const pugi::xml_node& node, Rational pos, const MusicXmlNote* last) {
    MusicXmlNote n;
    n.line = lines_.line_of(node.offset_debug());
    n.grace = bool(node.child("grace"));
    n.cue = bool(node.child("cue"));
    n.chord = bool(node.child("chord"));
    if (n.chord && !last) fail(node, "<chord/> with no note before it");
    n.onset = n.chord ? last->onset : pos;
    n.duration = n.grace ? Rational(0) : duration_of(node, !n.grace);
    if (pugi::xml_node v = node.child("voice")) n.voice = shown(trimmed(v.child_value()));
    if (pugi::xml_node s = node.child("staff")) n.staff = integer(s, 1, 99);
    for (pugi::xml_node tie : node.children("tie")) {
      std::string_view type = tie.attribute("type").value();
      if (type == "start") n.tie_start = true;
      if (type == "stop") n.tie_stop = true;
    }
    pugi::xml_node pitch = node.child("pitch");
    if (!pitch) pitch = node.child("unpitched");  // percussion: its display position
    if (node.child("rest") || !pitch) return n;
    const bool unpitched = std::string_view(pitch.name()) == "unpitched";
    std::string step = trimmed(pitch.child_value(unpitched ? "display-step" : "step"));
    static const std::map<std::string, int> kStep{{"C", 0}, {"D", 2}, {"E", 4}, {"F", 5}, {"G", 7}, {"A", 9}, {"B", 11}};
    auto it = kStep.find(step);
    if (it == kStep.end()) fail(node, "<step> \"" + shown(step) + "\" is not one of A..G");
    int octave = integer(pitch.child(unpitched ? "display-octave" : "octave"), -1, 12);
    double alter = 0;
    if (pugi::xml_node a = pitch.child("alter")) {
      alter = a.text().as_double(1e9);
      if (!(std::fabs(alter) <= 3)) fail(a, "<alter> \"" + shown(trimmed(a.child_value())) + "\" is not -3..3");
    }
    // Microtones round to the nearest semitone; the sounding pitch adds the part's <transpose>.
    n.pitch = 12 * (octave + 1) + it->second + int(std::lround(alter)) + (unpitched ? 0 : chromatic_ + 12 * octave_change_);
    if (n.pitch < 0 || n.pitch > 127) fail(node, "pitch outside MIDI 0..127");
    return n;
  }

  void barline(const pugi::xml_node& node, MusicXmlMeasure& m, bool& end_ending) {
    if (pugi::xml_node r = node.child("repeat")) {
      std::string_view dir = r.attribute("direction").value();
      if (dir == "forward") m.repeat_forward = true;
      if (dir == "backward") {
        m.repeat_backward = 2;
        if (r.attribute("times")) {
          int times = r.attribute("times").as_int(-1);
          if (times < 1 || times > kMaxRepeatTimes)
            fail(r, "repeat times=\"" + shown(r.attribute("times").value()) + "\" is not 1.." + std::to_string(kMaxRepeatTimes));
          m.repeat_backward = times;
        }
      }
    }
    if (pugi::xml_node e = node.child("ending")) {
      std::string_view type = e.attribute("type").value();
      if (type == "start") {
        ending_.clear();
        std::string numbers = e.attribute("number").value();
        for (char& c : numbers) if (c == ',') c = ' ';
        const char* p = numbers.c_str();
        while (*p) {
          char* end = nullptr;
          long v = std::strtol(p, &end, 10);
          if (end == p) { ++p; continue; }  // words ("1.", "Final") between numbers are skipped
          if (v >= 1 && v <= kMaxRepeatTimes) ending_.push_back(int(v));
          p = end;
        }
        in_ending_ = true;
        m.ending = ending_;
      } else if (type == "stop" || type == "discontinue") {
        end_ending = true;
      }
    }
  }

  const std::string& path_;
  const LineIndex& lines_;
  std::string measure_;
  std::optional<Rational> divisions_;
  int chromatic_ = 0, octave_change_ = 0;
  std::optional<int> diatonic_;
  std::vector<int> ending_;
  bool in_ending_ = false;
};

// The measures of a partwise part or the part's slices of a timewise score, in order.
std::vector<pugi::xml_node> measure_nodes(const pugi::xml_node& root, const std::string& id, bool timewise) {
  std::vector<pugi::xml_node> out;
  if (!timewise) {
    for (pugi::xml_node part : root.children("part"))
      if (id == part.attribute("id").value())
        for (pugi::xml_node m : part.children("measure")) out.push_back(m);
    return out;
  }
  for (pugi::xml_node m : root.children("measure"))
    for (pugi::xml_node part : m.children("part"))
      if (id == part.attribute("id").value()) {
        // The part element holds the measure's content; its number is the measure's.
        out.push_back(part);
        break;
      }
  return out;
}

}  // namespace

MusicXmlScore parse_musicxml(std::string_view xml, const std::string& path) {
  pugi::xml_document doc;
  pugi::xml_parse_result result = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_auto);
  LineIndex lines(xml);
  if (!result) throw file_error(path, lines.line_of(result.offset), std::string("not XML: ") + result.description());
  pugi::xml_node root = doc.document_element();
  std::string_view root_name = root.name();
  const bool timewise = root_name == "score-timewise";
  if (root_name != "score-partwise" && !timewise)
    throw file_error(path, lines.line_of(root.offset_debug()),
                     "not a MusicXML score: the root element is <" + shown(std::string(root_name)) +
                         ">, not <score-partwise> or <score-timewise>");
  MusicXmlScore score;
  for (pugi::xml_node sp : root.child("part-list").children("score-part")) {
    MusicXmlPart part;
    part.id = sp.attribute("id").value();
    part.name = trimmed(sp.child_value("part-name"));
    score.parts.push_back(std::move(part));
  }
  if (score.parts.empty()) throw file_error(path, lines.line_of(root.offset_debug()), "the score has no <score-part> in its <part-list>");
  for (MusicXmlPart& part : score.parts) {
    PartParser parser(path, lines);
    for (pugi::xml_node node : measure_nodes(root, part.id, timewise)) {
      part.measures.push_back(parser.measure(node, timewise ? node.parent() : node));
    }
  }
  return score;
}

std::string read_mxl_score(std::string_view zip_bytes, const std::string& path, std::string* member) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(zip_bytes.data(), zip_bytes.size(), 0, &error);
  zip_t* archive = source ? zip_open_from_source(source, ZIP_RDONLY, &error) : nullptr;
  if (!archive) {
    std::string why = zip_error_strerror(&error);
    if (source) zip_source_free(source);
    zip_error_fini(&error);
    throw file_error(path, 0, "not a compressed MusicXML file (zip): " + why);
  }
  zip_error_fini(&error);
  std::unique_ptr<zip_t, void (*)(zip_t*)> guard(archive, [](zip_t* z) { zip_discard(z); });

  // One member, inflated into memory, never past `limit` bytes whatever its header claims.
  auto read_member = [&](const std::string& name, size_t limit) {
    zip_file_t* file = zip_fopen(archive, name.c_str(), 0);
    if (!file) throw file_error(path, 0, "the archive has no " + shown(name) + (name == "META-INF/container.xml" ? " (not a compressed MusicXML file)" : ""));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> close(file, zip_fclose);
    std::string out;
    char buffer[1 << 16];
    while (true) {
      zip_int64_t n = zip_fread(file, buffer, sizeof buffer);
      if (n < 0) throw file_error(path, 0, "cannot inflate " + shown(name) + ": " + zip_file_strerror(file));
      if (n == 0) break;
      if (out.size() + size_t(n) > limit)
        throw file_error(path, 0, shown(name) + " inflates to more than " + std::to_string(limit >> 20) + " MiB; refused");
      out.append(buffer, size_t(n));
    }
    return out;
  };

  const std::string container_xml = read_member("META-INF/container.xml", size_t(1) << 20);
  pugi::xml_document container;
  if (!container.load_buffer(container_xml.data(), container_xml.size()))
    throw file_error(path, 0, "META-INF/container.xml is not XML");
  pugi::xml_node rootfile = container.child("container").child("rootfiles").child("rootfile");
  std::string name = rootfile.attribute("full-path").value();
  if (name.empty()) throw file_error(path, 0, "META-INF/container.xml names no <rootfile full-path=...>");
  if (member) *member = name;
  return read_member(name, kMaxInflatedBytes);
}

namespace {

struct PlayedNote {
  int pitch;
  Rational onset, duration;
  bool tie;
  int line;
};

// The measures in played order: repeats and endings expanded. A backward repeat jumps to the last forward
// repeat (or the start, or the measure after the previous backward repeat); an ending plays on its passes.
std::vector<size_t> played_order(const std::vector<MusicXmlMeasure>& measures) {
  std::vector<size_t> order;
  size_t start = 0, i = 0;
  int pass = 1;
  bool jumped = false;
  while (i < measures.size()) {
    const MusicXmlMeasure& m = measures[i];
    if (m.repeat_forward && !jumped) start = i, pass = 1;
    jumped = false;
    const bool plays = m.ending.empty() || std::find(m.ending.begin(), m.ending.end(), pass) != m.ending.end();
    if (plays) order.push_back(i);
    if (m.repeat_backward > 0 && plays) {
      // Passes: times="n", or as many as the endings name (a backward repeat in ending "1, 2" plays 3 times).
      int times = m.repeat_backward;
      if (!m.ending.empty()) times = std::max(times, *std::max_element(m.ending.begin(), m.ending.end()) + 1);
      if (pass < times) {
        ++pass;
        i = start;
        jumped = true;
        continue;
      }
      start = i + 1;
      pass = 1;
    }
    ++i;
  }
  return order;
}

}  // namespace

Melody extract_melody(const MusicXmlScore& score, const MusicXmlExtractOptions& options, const std::string& path) {
  const int parts = int(score.parts.size());
  if (options.part < 0 || options.part > parts)
    throw file_error(path, 0, "part " + std::to_string(options.part) + " does not exist: the score has " +
                                  std::to_string(parts) + " part" + (parts == 1 ? "" : "s") + ", numbered from 1");
  const MusicXmlPart& part = score.parts[size_t(options.part == 0 ? 0 : options.part - 1)];
  const std::string part_name = "part " + std::to_string(options.part == 0 ? 1 : options.part) + " (" + shown(part.id) + ")";

  // The voice: --voice N, else the lowest-numbered voice of the lowest staff that has notes.
  std::string voice;
  if (options.voice > 0) {
    voice = std::to_string(options.voice);
  } else {
    auto numeric = [](const std::string& v) { return std::atoi(v.c_str()); };
    int best_staff = 0;
    for (const MusicXmlMeasure& m : part.measures)
      for (const MusicXmlNote& n : m.notes)
        if (best_staff == 0 || n.staff < best_staff || (n.staff == best_staff && numeric(n.voice) < numeric(voice)))
          best_staff = n.staff, voice = n.voice;
  }
  std::vector<std::string> voices;
  for (const MusicXmlMeasure& m : part.measures)
    for (const MusicXmlNote& n : m.notes)
      if (std::find(voices.begin(), voices.end(), n.voice) == voices.end()) voices.push_back(n.voice);
  if (voices.empty()) throw file_error(path, 0, part_name + " has no notes");
  if (std::find(voices.begin(), voices.end(), voice) == voices.end()) {
    std::string list;
    for (const std::string& v : voices) list += (list.empty() ? "" : ", ") + v;
    throw file_error(path, 0, part_name + " has no voice " + voice + " (its voices: " + list + ")");
  }

  Melody melody;
  // Attributes: the first of each kind in the part.
  for (const MusicXmlMeasure& m : part.measures) {
    if (m.time && !melody.time_signature) melody.time_signature = m.time;
    if (m.tempo_bpm && !melody.tempo_bpm) melody.tempo_bpm = m.tempo_bpm;
    if (m.key_fifths && !melody.key_signature_fifths) {
      melody.key_signature_fifths = m.key_fifths;
      // A mode's tonic in fifths from the signature's major tonic (dorian: 2 fifths up, D from C).
      static const std::map<std::string, std::pair<int, bool>> kModes{
          {"major", {0, false}}, {"ionian", {0, false}}, {"minor", {3, true}},      {"aeolian", {3, true}},
          {"dorian", {2, true}}, {"phrygian", {4, true}}, {"lydian", {-1, false}}, {"mixolydian", {1, false}},
          {"locrian", {5, true}}};
      auto it = kModes.find(m.key_mode);
      if (it != kModes.end()) {
        // key_from_signature takes the signature of the major/minor key with that tonic.
        auto [offset, minor] = it->second;
        int tonic = *m.key_fifths + offset - (minor ? 3 : 0);
        if (tonic > 7) tonic -= 12;
        if (tonic < -7) tonic += 12;
        melody.key = key_from_signature(tonic, minor);
      }
    }
  }

  // The played notes of the voice, on one timeline; chords reduced to their highest note.
  std::vector<PlayedNote> notes;
  std::vector<Rational> measure_starts;
  std::vector<BarJump> jumps;  // where the played order leaves the written one, with the meter's bar there
  std::vector<Rational> bars(part.measures.size());  // per written measure: the bar of the meter in force (0: none)
  for (size_t i = 0; i < part.measures.size(); ++i) {
    const std::optional<TimeSignature>& t = part.measures[i].time;
    bars[i] = t ? bar_length(*t) : i > 0 ? bars[i - 1] : Rational(0);
  }
  Rational time(0);
  size_t previous = SIZE_MAX;
  for (size_t index : played_order(part.measures)) {
    const MusicXmlMeasure& m = part.measures[index];
    if (previous != SIZE_MAX && index != previous + 1) jumps.push_back({time, bars[index]});
    previous = index;
    measure_starts.push_back(time);
    for (const MusicXmlNote& n : m.notes) {
      if (n.voice != voice || n.grace || !(n.duration > Rational(0))) continue;
      const int pitch = n.cue ? kRest : n.pitch;
      PlayedNote p{pitch, time + n.onset, n.duration, n.tie_start && pitch != kRest, n.line};
      if (!notes.empty() && notes.back().onset == p.onset) {
        PlayedNote& prev = notes.back();
        if (p.pitch != kRest && (prev.pitch == kRest || p.pitch > prev.pitch)) prev = p;
        continue;
      }
      if (notes.size() >= kMaxPlayedEvents) throw file_error(path, 0, part_name + ": more than " + std::to_string(kMaxPlayedEvents) + " notes once repeats are played");
      notes.push_back(p);
    }
    time += m.length;
  }
  std::stable_sort(notes.begin(), notes.end(), [](const PlayedNote& a, const PlayedNote& b) { return a.onset < b.onset; });

  // Events: gaps (the voice is silent) become rests; a note cut by the next onset is shortened.
  Rational at(0);
  for (size_t i = 0; i < notes.size(); ++i) {
    PlayedNote n = notes[i];
    if (i > 0 && n.onset == notes[i - 1].onset) continue;  // equal onsets left after sorting: the first
    if (n.onset > at) melody.events.push_back(MelodyEvent{kRest, n.onset - at, false, n.line});
    Rational end = n.onset + n.duration;
    size_t next = i + 1;  // the next later onset (equal ones are skipped above)
    while (next < notes.size() && notes[next].onset == n.onset) ++next;
    if (next < notes.size() && notes[next].onset < end) end = notes[next].onset;
    melody.events.push_back(MelodyEvent{n.pitch, end - n.onset, n.tie, n.line});
    at = end;
  }
  if (time > at) melody.events.push_back(MelodyEvent{kRest, time - at, false, 0});

  // Barlines: the start of every played measure after the first that has an event after it.
  for (size_t i = 1; i < measure_starts.size(); ++i) {
    const Rational t = measure_starts[i];
    if (t >= time || (!melody.barlines.empty() && melody.barlines.back() == t)) continue;
    melody.barlines.push_back(t);
  }
  join_bars_split_by_jumps(melody, jumps);
  // Consecutive rests of the notation stay separate events (as kern); merge nothing here.
  return melody;
}

Melody read_musicxml_bytes(std::string_view bytes, const std::string& path, const MusicXmlExtractOptions& options) {
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == 'K') {
    std::string member;
    std::string xml = read_mxl_score(bytes, path, &member);
    return extract_melody(parse_musicxml(xml, path + "[" + member + "]"), options, path);
  }
  return extract_melody(parse_musicxml(bytes, path), options, path);
}

Melody read_musicxml_file(const std::string& path, const MusicXmlExtractOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, 0, "cannot open file");
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) throw file_error(path, 0, "cannot read file");
  if (size_t(size) > kMaxInflatedBytes) throw file_error(path, 0, "larger than " + std::to_string(kMaxInflatedBytes >> 20) + " MiB; refused");
  in.seekg(0);
  std::string bytes(size_t(size), '\0');
  in.read(bytes.data(), size);
  if (!in) throw file_error(path, 0, "cannot read file");
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".mxl" && !(bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] == 'K'))
    throw file_error(path, 0, "not a compressed MusicXML file: an .mxl is a zip archive");
  return read_musicxml_bytes(bytes, path, options);
}

}  // namespace melodist
