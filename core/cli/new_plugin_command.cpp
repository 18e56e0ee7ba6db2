// vumi-dispatcher new-plugin NAME [DIR]: writes a complete out-of-tree plugin from sdk/template/.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

#include "cli/commands.hpp"
#include "cli/plugin_template.hpp"

namespace vumi::cli {

namespace fs = std::filesystem;

namespace {

// A plugin name is also a C++ identifier part and a CMake target: lowercase, digits, underscores.
bool is_plugin_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || !(name[0] >= 'a' && name[0] <= 'z')) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string instantiate(std::string_view text, const std::string& name) {
  std::string out;
  out.reserve(text.size());
  const std::string_view marker = "@NAME@";
  std::size_t at = 0;
  for (std::size_t found; (found = text.find(marker, at)) != std::string_view::npos;
       at = found + marker.size()) {
    out.append(text.substr(at, found - at));
    out += name;
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace

int new_plugin_command(const NewPluginArgs& args) {
  if (!is_plugin_name(args.name)) {
    std::cerr << "vumi-dispatcher new-plugin: plugin name \"" << args.name
              << "\" must start with a-z and contain only a-z, 0-9 and _ (at most 64 characters)\n";
    return 2;
  }
  const fs::path dir = args.dir.empty() ? fs::path(args.name) : args.dir;
  std::error_code error;
  if (fs::exists(dir, error) && !fs::is_empty(dir, error)) {
    std::cerr << "vumi-dispatcher new-plugin: " << dir.string()
              << " exists and is not empty; nothing written\n";
    return 1;
  }
  fs::create_directories(dir, error);
  if (error) {
    std::cerr << "vumi-dispatcher new-plugin: cannot create " << dir.string() << ": " << error.message()
              << "\n";
    return 1;
  }
  for (const TemplateFile& file : plugin_template_files()) {
    const fs::path target = dir / instantiate(file.path, args.name);
    std::ofstream out(target, std::ios::binary);
    out << instantiate(file.text, args.name);
    if (!out.flush()) {
      std::cerr << "vumi-dispatcher new-plugin: cannot write " << target.string() << "\n";
      return 1;
    }
  }
  std::cout << "created plugin " << args.name << " in " << dir.string() << "\n"
            << "next: cmake -S " << dir.string() << " -B " << (dir / "build").string()
            << " -DCMAKE_PREFIX_PATH=<SDK prefix> && cmake --build " << (dir / "build").string()
            << " && ctest --test-dir " << (dir / "build").string() << "\n";
  return 0;
}

}  // namespace vumi::cli
