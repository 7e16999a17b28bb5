#pragma once
// mapping.json, the vocabulary file of a dataset folder, a model folder and the reference recipe's Keras
// export: one JSON object from symbol to id, the ids the distinct integers 0..V-1. THE codec: every
// reader of a mapping.json (train, evaluate, crossval, import-keras) parses it here.
#include <functional>
#include <string>
#include <vector>

namespace melodist {

struct MappingRules {
  bool need_delimiter = true;  // the vocabulary must hold "/" (training and generation start from it)
  // When set, every symbol must pass it (import-keras: the reference's symbols only); `symbol_rule`
  // says which symbols it allows, for the error message.
  std::function<bool(const std::string&)> symbol_ok;
  std::string symbol_rule;
};

// mapping.json's bytes as id -> symbol (V). Throws melodist::Error naming `path` for bytes that are not
// JSON, not an object, empty, an id that is not an integer in 0..V-1 (checked as a 64-bit value), an id
// given to two symbols, a symbol the rules refuse, or a missing "/".
std::vector<std::string> parse_mapping_json(const std::string& bytes, const std::string& path, const MappingRules& rules = {});

// The file for a vocabulary (id -> symbol): symbols in id order, 4-space indented, a final newline.
std::string mapping_json(const std::vector<std::string>& vocabulary);

}  // namespace melodist
