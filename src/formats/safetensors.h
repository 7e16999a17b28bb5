#pragma once
// The safetensors container (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes.
// Written by hand because Debian packages no C++ safetensors library; the format is 3 fields.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace melodist {

struct SafeTensor {
  std::string name;
  std::vector<size_t> shape;
  std::vector<float> data;  // F32 only: every melodist tensor is float32
};

struct SafeTensorsFile {
  std::vector<SafeTensor> tensors;                 // in data order
  std::map<std::string, std::string> metadata;     // "__metadata__"
};

// Serialises to bytes (tensors packed in the given order). Adds "checksum" (CRC-32 of the tensor
// bytes, hex) to the metadata.
std::string serialize_safetensors(const SafeTensorsFile& file);
// Parses and validates bytes (header bounds, JSON, dtype F32, shapes vs offsets, checksum when
// present). Throws melodist::Error prefixed with `path`.
SafeTensorsFile parse_safetensors(const std::string& bytes, const std::string& path);

// A melodist file's metadata entry `key`, and the check of its "format" and "format_version" entries, shared
// by every melodist file kind: `noun` names the kind in the messages ("model", "training checkpoint"), e.g.
// "not a melodist model (metadata has no \"config\")", "model format version 1 is not the version this
// melodist reads (2)". Throw melodist::Error naming `path`.
const std::string& melodist_metadata(const SafeTensorsFile& file, const std::string& path, const std::string& noun,
                                     const std::string& key);
void check_melodist_format(const SafeTensorsFile& file, const std::string& path, const std::string& noun,
                           const std::string& format, int version);

uint32_t crc32_of(const void* data, size_t size);

}  // namespace melodist
