// The entry point: parse the command line, dispatch to a subcommand. The wiring of concrete
// adapters lives in serve.cpp, worker.cpp, backplane.cpp and stores.cpp.
#include <iostream>
#include <variant>

#include "app/commands.h"
#include "app/common.h"
#include "app/stores.h"
#include "core/api_key.h"

namespace shortener {

namespace {

int create_key(const KeysCreateConfig& config) {
  auto stores = open_stores(config.store, 1, true);  // like SQLite, migrates a fresh database
  if (!stores) {
    std::cerr << "shortener: " << stores.error().detail << "\n";
    return exit_code_for(stores.error());
  }
  std::string key = generate_api_key();
  auto account =
      stores->accounts->create_account(config.admin, sha256_hex(key), SystemClock{}.now_us());
  if (!account) {
    std::cerr << "shortener: " << account.error().detail << "\n";
    return kStartupFailure;
  }
  std::cout << "created " << (config.admin ? "admin " : "") << "account " << account->id
            << "; its API key (shown once):\n"
            << key << std::endl;
  return 0;
}

int run_migrate(const MigrateConfig& config) {
  auto version = migrate_store(config.store);
  if (!version) {
    std::cerr << "shortener: migrate: " << version.error().detail << "\n";
    return exit_code_for(version.error());
  }
  std::cout << "schema up to date"
            << (*version > 0 ? " (version " + std::to_string(*version) + ")" : std::string())
            << std::endl;
  return 0;
}

}  // namespace

}  // namespace shortener

int main(int argc, char** argv) {
  using namespace shortener;
  auto command = parse_command_line(argc, argv, std::cout, std::cerr);
  try {
    return std::visit(
        [](auto&& parsed) -> int {
          using T = std::decay_t<decltype(parsed)>;
          if constexpr (std::is_same_v<T, int>) return parsed;
          if constexpr (std::is_same_v<T, ServeConfig>) return serve(std::move(parsed));
          if constexpr (std::is_same_v<T, WorkerConfig>) return run_worker(std::move(parsed));
          if constexpr (std::is_same_v<T, DeadLettersConfig>) return run_dead_letters(parsed);
          if constexpr (std::is_same_v<T, KeysCreateConfig>) return create_key(parsed);
          if constexpr (std::is_same_v<T, MigrateConfig>) return run_migrate(parsed);
        },
        std::move(command));
  } catch (const std::exception& e) {
    std::cerr << "shortener: " << e.what() << "\n";
    return kStartupFailure;
  }
}
