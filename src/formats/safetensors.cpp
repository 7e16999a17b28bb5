#include "formats/safetensors.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "util/error.h"

namespace melodist {

uint32_t crc32_of(const void* data, size_t size) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(data);
  while (size > 0) {
    uInt chunk = size > (1u << 30) ? (1u << 30) : static_cast<uInt>(size);
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

namespace {
std::string hex32(uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}
}  // namespace

std::string serialize_safetensors(const SafeTensorsFile& file) {
  static_assert(sizeof(float) == 4);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::string data;
  size_t offset = 0;
  for (const auto& t : file.tensors) {
    size_t count = 1;
    for (size_t d : t.shape) count *= d;
    if (count != t.data.size()) throw Error("tensor " + t.name + " has a shape that does not match its data");
    size_t bytes = count * sizeof(float);
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    data.append(reinterpret_cast<const char*>(t.data.data()), bytes);  // x86-64 is little-endian
    offset += bytes;
  }
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  for (const auto& [k, v] : file.metadata) meta[k] = v;
  meta["checksum"] = "crc32:" + hex32(crc32_of(data.data(), data.size()));
  header["__metadata__"] = meta;
  std::string text = header.dump();
  while ((text.size() + 8) % 8 != 0) text.push_back(' ');  // align tensor data to 8 bytes
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  out += text;
  out += data;
  return out;
}

SafeTensorsFile parse_safetensors(const std::string& bytes, const std::string& path) {
  if (bytes.size() < 8) throw file_error(path, 0, "not a safetensors file (shorter than its 8-byte header length)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n < 2 || n > bytes.size() - 8 || n > (100u << 20))
    throw file_error(path, 0, "not a safetensors file (header length " + std::to_string(n) + " does not fit the file)");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
  } catch (const nlohmann::json::exception&) {
    throw file_error(path, 0, "not a safetensors file (its header is not JSON)");
  }
  if (!header.is_object()) throw file_error(path, 0, "not a safetensors file (header is not an object)");
  const size_t data_begin = 8 + n;
  const size_t data_size = bytes.size() - data_begin;
  SafeTensorsFile file;
  struct Entry { std::string name; std::vector<size_t> shape; size_t begin, end; };
  std::vector<Entry> entries;
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        for (auto m = it.value().begin(); m != it.value().end(); ++m) file.metadata[m.key()] = m.value().get<std::string>();
        continue;
      }
      const auto& v = it.value();
      if (v.at("dtype").get<std::string>() != "F32")
        throw file_error(path, 0, "tensor " + it.key() + " has dtype " + v.at("dtype").get<std::string>() + "; melodist reads F32 only");
      Entry e{it.key(), v.at("shape").get<std::vector<size_t>>(), v.at("data_offsets").at(0).get<size_t>(),
              v.at("data_offsets").at(1).get<size_t>()};
      // The element count and byte size are checked for overflow: a shape such as [2^30, 2^30, 16]
      // multiplies to 2^64 = 0 in size_t and would match an empty range.
      size_t count = 1, bytes = 0;
      for (size_t d : e.shape) {
        if (d > (1u << 30) || __builtin_mul_overflow(count, d, &count))
          throw file_error(path, 0, "tensor " + e.name + " has an impossible shape");
      }
      if (__builtin_mul_overflow(count, sizeof(float), &bytes))
        throw file_error(path, 0, "tensor " + e.name + " has an impossible shape");
      if (e.end < e.begin || e.end > data_size || e.end - e.begin != bytes)
        throw file_error(path, 0, "tensor " + e.name + " points past the end of the file (truncated?)");
      entries.push_back(std::move(e));
    }
  } catch (const nlohmann::json::exception& ex) {
    throw file_error(path, 0, std::string("malformed safetensors header: ") + ex.what());
  }
  auto checksum = file.metadata.find("checksum");
  if (checksum != file.metadata.end()) {
    std::string actual = "crc32:" + hex32(crc32_of(bytes.data() + data_begin, data_size));
    if (checksum->second != actual)
      throw file_error(path, 0, "checksum mismatch (stored " + checksum->second + ", data " + actual + "): the file is truncated or corrupted");
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (auto& e : entries) {
    SafeTensor t{e.name, e.shape, std::vector<float>((e.end - e.begin) / sizeof(float))};
    if (!t.data.empty()) std::memcpy(t.data.data(), bytes.data() + data_begin + e.begin, e.end - e.begin);
    file.tensors.push_back(std::move(t));
  }
  return file;
}

const std::string& melodist_metadata(const SafeTensorsFile& file, const std::string& path, const std::string& noun,
                                     const std::string& key) {
  auto it = file.metadata.find(key);
  if (it == file.metadata.end()) throw file_error(path, 0, "not a melodist " + noun + " (metadata has no \"" + key + "\")");
  return it->second;
}

void check_melodist_format(const SafeTensorsFile& file, const std::string& path, const std::string& noun,
                           const std::string& format, int version) {
  const std::string& f = melodist_metadata(file, path, noun, "format");
  if (f != format) throw file_error(path, 0, "not a melodist " + noun + " (format \"" + f + "\")");
  const std::string& v = melodist_metadata(file, path, noun, "format_version");
  if (v != std::to_string(version))
    throw file_error(path, 0, noun + " format version " + v + " is not the version this melodist reads (" + std::to_string(version) + ")");
}

}  // namespace melodist
