#pragma once
// The page's files (web/), compiled into the binary at build time by cmake/embed_assets.cmake.
#include <string_view>
#include <vector>

namespace melodist::serve {

struct Asset {
  std::string_view path;   // URL path: "/index.html", "/app.js", ...
  std::string_view bytes;
};

const std::vector<Asset>& embedded_assets();

}  // namespace melodist::serve
