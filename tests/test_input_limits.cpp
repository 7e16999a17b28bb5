// Issue 21 (7): values that used to be silently changed or misreported. Each case failed on 6608ffd:
// seeds wrapped or saturated, a safetensors shape overflowed to zero elements, a mapping id of 2^32 was
// truncated to 0, a symbolic-link loop was "no such file", and train found an unwritable --out only
// when it first saved (after an epoch).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "formats/safetensors.h"
#include "train_test_support.h"
#include "util/error.h"

namespace {

namespace fs = std::filesystem;
using melodist_test::expect_one_line_error;
using melodist_test::run_melodist;
using melodist_test::scratch_in;

const std::string kTiny = std::string(MELODIST_FIXTURES_DIR) + "/train/tiny";

TEST(InputLimits, SeedsOutsideSixtyFourBitsAreRefusedNotWrapped) {
  for (const std::string seed : {"-1", "18446744073709551616", "99999999999999999999999", "1e3", "0x10", ""}) {
    for (const std::string cmd : {"generate --out " + scratch_in("limits", "g.txt").string(),
                                  "train --data " + kTiny + " --epochs 1 --out " + scratch_in("limits", "m").string()}) {
      const auto r = run_melodist("limits", cmd + " --seed '" + seed + "'");
      EXPECT_EQ(r.status, 1) << cmd << " --seed " << seed << ": " << r.err;
      EXPECT_NE(r.err.find("--seed"), std::string::npos) << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  // The largest seed is accepted, and differs from 2^64 - 2 (no saturation of neighbours).
  const auto a = run_melodist("limits", "generate --out - --seed 18446744073709551615");
  const auto b = run_melodist("limits", "generate --out - --seed 18446744073709551614");
  EXPECT_EQ(a.status, 0) << a.err;
  EXPECT_EQ(b.status, 0) << b.err;
}

TEST(InputLimits, SafetensorsShapeWhoseElementCountOverflowsIsRefused) {
  // 2^30 x 2^30 x 16 elements = 2^64: zero in size_t, which matched an empty data range before.
  const std::string header = R"({"w":{"dtype":"F32","shape":[1073741824,1073741824,16],"data_offsets":[0,0]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  bytes += header;
  try {
    melodist::parse_safetensors(bytes, "overflow.safetensors");
    FAIL() << "an overflowing shape was accepted";
  } catch (const melodist::Error& e) {
    EXPECT_NE(std::string(e.what()).find("overflow.safetensors: tensor w has an impossible shape"), std::string::npos) << e.what();
  }
}

TEST(InputLimits, MappingIdOfTwoToTheThirtySecondIsRefusedNotTruncated) {
  const fs::path data = scratch_in("limits", "data-2p32");
  fs::copy(kTiny, data);
  std::string mapping = melodist_test::slurp(data / "mapping.json");
  const std::string from = "\"/\": 0,", to = "\"/\": 4294967296,";
  ASSERT_NE(mapping.find(from), std::string::npos);
  mapping.replace(mapping.find(from), from.size(), to);  // 2^32 truncated to an int is 0 again
  std::ofstream(data / "mapping.json") << mapping;
  const auto r = run_melodist("limits", "train --data " + data.string() + " --epochs 1 --out " + scratch_in("limits", "m32").string());
  expect_one_line_error(r, {"mapping.json", "4294967296"});
  EXPECT_FALSE(fs::exists(scratch_in("limits", "m32") / "model.safetensors"));
}

TEST(InputLimits, SymbolicLinkLoopIsNamedAsSuch) {
  const fs::path dir = scratch_in("limits", "loop");
  fs::create_directories(dir);
  fs::create_symlink(dir / "b", dir / "a");
  fs::create_symlink(dir / "a", dir / "b");
  const auto r = run_melodist("limits", "preprocess " + (dir / "a").string() + " --out " + (dir / "out").string());
  expect_one_line_error(r, {(dir / "a").string(), "symbolic links"});
  EXPECT_EQ(r.err.find("no such file"), std::string::npos) << r.err;
}

TEST(InputLimits, TrainIntoAnUnwritableFolderFailsBeforeTraining) {
  // An empty folder without write permission. Root writes anywhere, so as root the command runs as
  // user nobody (setpriv, util-linux). Before, the error came when the first epoch's model was saved
  // ("model.safetensors: cannot write"); now the folder is refused before any training.
  const fs::path dir = scratch_in("limits", "read-only");
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  std::string prefix;
  if (::geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null") != 0) GTEST_SKIP() << "running as root without setpriv (util-linux)";
    prefix = "--version >/dev/null; setpriv --reuid=65534 --regid=65534 --clear-groups " + std::string(MELODIST_BINARY) + " ";
  }
  const auto r = run_melodist("limits", prefix + "train --data " + kTiny + " --epochs 50 --out " + dir.string());
  // The folder lock (util/folder_lock.h) or the writability probe refuses it, whichever comes first.
  expect_one_line_error(r, {dir.string(), "Permission denied"});
  EXPECT_EQ(r.err.find("model.safetensors"), std::string::npos) << r.err;
}

}  // namespace
