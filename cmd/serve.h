// The subcommands.
#pragma once

#include "flags.h"

namespace gantry::cmd {

int run_serve(const Flags& flags);
int run_translate(const Flags& flags);

}  // namespace gantry::cmd
