#pragma once
// MusicXML 4.0 writer, score-partwise: one part, one voice; measures from the meter (an implicit measure 0
// for a pickup), divisions fitting every length, key, time, treble clef, the tempo as a metronome mark and
// <sound tempo>, ties across barlines, triplets as <time-modification> 3:2 with <tuplet> brackets.
// .mxl is the same document compressed in a zip with META-INF/container.xml (the MusicXML container).
#include <string>

#include "music/melody.h"
#include "music/score.h"

namespace melodist {

// The document as text. Throws melodist::Error (music/score.h) for what cannot be written.
std::string write_musicxml(const Melody& melody, const NotationOptions& options, const std::string& title);
// The compressed container (.mxl): "mimetype", META-INF/container.xml and score.musicxml. Same input,
// same bytes (entries carry a fixed time).
std::string write_mxl(const Melody& melody, const NotationOptions& options, const std::string& title);

}  // namespace melodist
