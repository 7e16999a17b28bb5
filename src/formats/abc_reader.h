#pragma once
// ABC reader (the ABC 2.1 standard, abcnotation.com/wiki/abc:standard:v2.1): a tune book of many tunes,
// each one song. The data mirrors the file:
//   AbcBook   the file: its tunes in file order (text before the first X: is the file header, skipped)
//   AbcTune   one tune: its X: number, title, first line, and its lines (header fields, then the body)
//   Melody    what a tune performs (parse_abc_tune): one voice, repeats, endings and P: part orders
//             expanded as abc2midi plays them, chords reduced to their highest note.
//
// What is read (see abc_reader.cpp for the grammar; everything else listed there is skipped):
//   header X T M L Q K P V (other standard fields are skipped; a field letter the standard does not define
//   is a warning in the header, as abc2midi says, and an error in the body, where it could change the
//   music); body field lines and inline fields [K:] [M:] [L:] [P:] [V:] [Q:];
//   notes with octave marks and lengths, accidentals (to the end of the bar, in every octave, as abc2midi);
//   broken rhythm > >> >>> < << <<<; tuplets (p and (p:q:r; ties -; rests z x and bar rests Z X;
//   chords [CEG] (the highest note, with the first note's length times the chord's); grace notes {..}
//   (no time); decorations !..! +..+ and . ~ H L M O P S T u v; chord symbols and annotations "..";
//   slurs ( ); line continuation \; comments % and directives %%.
// Key: K: tonic and mode. Melody::key keeps the tonic; a mode with a major third (ionian, lydian,
// mixolydian) is major, one with a minor third (dorian, phrygian, aeolian, locrian) is minor, so the
// reference's transposition moves the tonic to C or A; Melody::key_mode names the mode. K:none has no key.
// Meter: the first M: (C = 4/4, C| = 2/2); barlines: the performed time of every bar line.
//
// Errors are one line: "path:line: tune X:n: reason" (unclosed chord, tuplet, grace group, decoration or
// quote; unknown body field; bad length; no K:; unbalanced repeats; pitch outside MIDI 0..127; ...).
#include <string>
#include <vector>

#include "music/melody.h"

namespace melodist {

struct AbcTune {
  int number = 0;                  // X: value
  std::string title;               // first T:, "" when none
  int first_line = 0;              // line of X: (1-based); lines[i] is line first_line + i
  std::vector<std::string> lines;  // from X: up to the blank line or next X: that ends the tune
};

struct AbcBook {
  std::vector<AbcTune> tunes;      // file order
};

struct AbcReadOptions {
  int voice = 0;                   // 1-based voice in order of first appearance (V:); 0 = the first
};

// Splits a file into tunes. Throws melodist::Error naming the file for binary data or no X: tune.
AbcBook split_abc_book(std::string_view text, const std::string& path);
AbcBook read_abc_book(const std::string& path);

// The performed melody of one tune. Throws melodist::Error "path:line: tune X:n: reason".
Melody parse_abc_tune(const AbcTune& tune, const AbcReadOptions& options, const std::string& path);

}  // namespace melodist
