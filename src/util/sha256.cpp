#include "util/sha256.h"

#include <openssl/evp.h>

#include "util/error.h"

namespace melodist {

namespace {

std::string to_hex(const unsigned char* digest, unsigned int length) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) out += hex[digest[i] >> 4], out += hex[digest[i] & 15];
  return out;
}

EVP_MD_CTX* context_of(void* p) { return static_cast<EVP_MD_CTX*>(p); }

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw Error("SHA-256 failed (libcrypto)");
  return to_hex(digest, length);
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_of(context_), EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(context_of(context_));
    throw Error("SHA-256 failed (libcrypto)");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_of(context_)); }

void Sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(context_of(context_), bytes.data(), bytes.size()) != 1) throw Error("SHA-256 failed (libcrypto)");
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_of(context_), digest, &length) != 1) throw Error("SHA-256 failed (libcrypto)");
  return to_hex(digest, length);
}

}  // namespace melodist
