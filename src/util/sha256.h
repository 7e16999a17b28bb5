#pragma once
// SHA-256 (FIPS 180-4) of a byte string as 64 lowercase hex digits, the form `sha256sum` prints.
// Computed by OpenSSL's libcrypto (Debian libssl-dev); used for the content record of a dataset's
// manifest.json (formats/dataset_folder.h), where a 64-bit hash would do as well, but SHA-256 lets a
// user check the files with the standard tool.
#include <string>
#include <string_view>

namespace melodist {

std::string sha256_hex(std::string_view bytes);

// The same digest of bytes given piece by piece (a file written as it streams): update() any number
// of times, then hex() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string hex();  // the digest of everything given; the object is spent afterwards

 private:
  void* context_;  // EVP_MD_CTX*
};

}  // namespace melodist
