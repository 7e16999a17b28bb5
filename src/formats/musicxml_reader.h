#pragma once
// MusicXML reader (.musicxml, .xml: uncompressed; .mxl: a zip whose META-INF/container.xml names the score).
// Two stages, as the MIDI reader: parse_musicxml mirrors the file (a score, its parts, their measures and
// notes, times in quarter notes), extract_melody reduces one part's voice to a Melody.
//
// XML is read by pugixml, zip by libzip. Partwise and timewise scores are both read (a timewise score is
// the same measures grouped the other way round). Malformed input throws melodist::Error
// "path:line: measure N: reason" (line from the element's byte offset, measure from its number attribute).
// An .mxl's member is inflated at most kMaxInflatedBytes (a zip bomb is refused, not unpacked).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "music/melody.h"
#include "util/rational.h"

namespace melodist {

inline constexpr size_t kMaxInflatedBytes = size_t(64) << 20;  // one .mxl member, inflated

struct MusicXmlNote {
  int pitch = kRest;          // SOUNDING MIDI pitch (written pitch + the part's <transpose>), or kRest
  Rational onset;             // quarters from the start of its measure
  Rational duration;          // quarters; 0 for grace notes
  std::string voice = "1";    // <voice>, "1" when absent
  int staff = 1;              // <staff>, 1 when absent
  bool chord = false;         // <chord/>: sounds with the previous note
  bool grace = false;         // <grace/>: takes no time
  bool cue = false;           // <cue/>: takes its time but is not played (another part's line)
  bool tie_start = false;     // <tie type="start"/> (not the notational <tied>)
  bool tie_stop = false;
  int line = 0;               // line of the <note> element
};

struct MusicXmlEnding {
  std::vector<int> numbers;   // <ending number="1, 2">: the passes that play this measure
};

struct MusicXmlMeasure {
  std::string number;         // the number attribute, as written ("1", "0" for a pickup, "12a")
  int line = 0;
  bool implicit = false;      // implicit="yes": a pickup or a split measure, not counted
  Rational length;            // quarters: the furthest any voice reaches (notes, forward)
  std::vector<MusicXmlNote> notes;
  std::optional<TimeSignature> time;  // a <time> in this measure (the first one)
  std::optional<int> key_fifths;      // a <key> in this measure (sounding: transposed by <transpose>)
  std::string key_mode;               // its <mode>, "" when absent
  std::optional<double> tempo_bpm;    // <sound tempo="...">
  bool repeat_forward = false;        // <repeat direction="forward"/>
  int repeat_backward = 0;            // times of a <repeat direction="backward"/>, 0 when none
  std::vector<int> ending;            // the passes of the <ending> this measure belongs to; empty = every pass
};

struct MusicXmlPart {
  std::string id;             // <score-part id="P1">
  std::string name;           // <part-name>
  std::vector<MusicXmlMeasure> measures;
};

struct MusicXmlScore {
  std::vector<MusicXmlPart> parts;  // in <part-list> order
};

// Parses MusicXML text; `path` names the file in messages.
MusicXmlScore parse_musicxml(std::string_view xml, const std::string& path);
// The score file of an .mxl archive (the first <rootfile> of META-INF/container.xml), bounded by
// kMaxInflatedBytes. Returns the XML text; `member` gets its name inside the archive.
std::string read_mxl_score(std::string_view zip_bytes, const std::string& path, std::string* member = nullptr);

struct MusicXmlExtractOptions {
  int part = 0;    // 1-based index in <part-list> order; 0: the first part
  int voice = 0;   // the <voice> number; 0: the first voice of the part's first staff (the lowest number)
};

// The melody of one part's voice, as played:
//  - repeats (forward/backward, times="n") and endings (<ending number="1, 2">) are expanded, as MuseScore
//    plays them; D.C./D.S./coda jumps are not followed;
//  - chords: the highest note is the melody (the MIDI reader's skyline); grace notes are dropped (they take
//    no time); cue notes and every stretch where the voice is silent (other voices, <forward>) are rests;
//  - ties: tied_to_next from <tie type="start"/>;
//  - key and key signature from the part's first <key> (mode major/minor/church modes; no <mode>: the key
//    signature only, the encoder estimates the key), meter from its first <time>, tempo from the first
//    <sound tempo>; barlines at the start of every played measure after the first.
Melody extract_melody(const MusicXmlScore& score, const MusicXmlExtractOptions& options, const std::string& path);

// Reads .musicxml / .xml / .mxl (by extension; .mxl is unzipped) and extracts the melody.
Melody read_musicxml_file(const std::string& path, const MusicXmlExtractOptions& options = {});
// The same from bytes already read: a zip archive when they start with "PK", else XML.
Melody read_musicxml_bytes(std::string_view bytes, const std::string& path, const MusicXmlExtractOptions& options = {});

}  // namespace melodist
