// The subcommands main() dispatches to; each returns the process exit code.
#pragma once

#include "config/config.h"

namespace shortener {

int serve(ServeConfig config);                          // serve.cpp
int run_worker(WorkerConfig config);                    // worker.cpp
int run_dead_letters(const DeadLettersConfig& config);  // worker.cpp

}  // namespace shortener
