// hasysctl config: check node configuration files; import the seed's hasys_variable_opt.sh.
#include "commands.hpp"

#include <hasys/config/node_config.hpp>

#include <array>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace hasys::ctl {

namespace {

namespace fs = std::filesystem;
constexpr std::string_view check_prefix = "hasysctl config check";
constexpr std::string_view import_prefix = "hasysctl config import";

int check(arguments args) {
  std::string error;
  auto opts = parse_options(args, {}, error);
  if (!error.empty()) return usage_error(check_prefix, error);
  if (opts.positional.empty()) return usage_error(check_prefix, "give the FILE to check");
  int rc = exit_ok;
  for (std::string_view file : opts.positional) {
    auto r = config::load_file(fs::path(file));
    if (r.config) {
      std::size_t n = r.config->groups.size();
      std::cout << file << ": ok (" << n << (n == 1 ? " group)" : " groups)") << '\n';
      for (const auto& w : config::advise(*r.config)) std::cerr << file << ": warning: " << w.to_string() << '\n';
      continue;
    }
    for (const auto& e : r.errors) std::cerr << file << ": " << e.to_string() << '\n';
    rc = exit_failure;
  }
  return rc;
}

// Writes text to path unless it exists and force is false; the error said on stderr.
bool write_output(const fs::path& path, const std::string& text, bool force) {
  std::error_code ec;
  if (!force && fs::exists(path, ec)) {
    std::cerr << import_prefix << ": " << path.string() << " exists; add --force to replace it\n";
    return false;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!(out << text) || !out.flush()) {
    std::cerr << import_prefix << ": cannot write " << path.string() << '\n';
    return false;
  }
  return true;
}

constexpr std::array<option_spec, 4> import_options{{
    {"--key", "", true},
    {"--scripts", "", true},
    {"--output", "-o", true},
    {"--force", "", false},
}};

int import(arguments args) {
  std::string error;
  auto opts = parse_options(args, import_options, error);
  if (!error.empty()) return usage_error(import_prefix, error);
  if (opts.positional.size() != 1) return usage_error(import_prefix, "give one SEED.sh file");
  auto key = opts.value("--key");
  if (!key) return usage_error(import_prefix, "give the group key file with --key KEYFILE");
  std::string seed(opts.positional[0]);
  auto text = read_text_file(seed, error);
  if (!text) {
    std::cerr << import_prefix << ": " << error << '\n';
    return exit_failure;
  }
  // Paths go into the file as given on this command line: make them absolute, since the config
  // reads relative ones from its own folder.
  fs::path scripts = opts.value("--scripts") ? fs::path(*opts.value("--scripts"))
                                             : fs::path(config::default_script_dir);
  auto r =
      config::import_seed_variables(*text, fs::absolute(fs::path(*key)), fs::absolute(scripts));
  for (const auto& n : r.notes) std::cerr << "note: " << n << '\n';
  if (!r.config) {
    for (const auto& e : r.errors) std::cerr << seed << ": " << e.to_string() << '\n';
    return exit_failure;
  }
  std::string toml = "# hasys node configuration imported from " + seed +
                     " by hasysctl config import; read the notes it printed.\n\n" +
                     config::to_toml(*r.config);
  auto out = opts.value("--output");
  if (!out) {
    std::cout << toml;
    return exit_ok;
  }
  return write_output(fs::path(*out), toml, opts.has("--force")) ? exit_ok : exit_failure;
}

constexpr std::array<command, 2> commands{{
    {"check", "FILE...", "validate node configuration files; every error, one per line", check},
    {"import", "SEED.sh --key KEYFILE [--scripts DIR] [-o OUT.toml] [--force]",
     "convert the seed's hasys_variable_opt.sh to TOML (notes on stderr)", import},
}};

}  // namespace

int config_command(arguments args) { return dispatch(commands, "hasysctl config", args); }

}  // namespace hasys::ctl
