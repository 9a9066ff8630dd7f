// All of libs/sys: addresses, links, neighbour discovery and the process runner.
#pragma once

#include <hasys/sys/address.hpp>
#include <hasys/sys/error.hpp>
#include <hasys/sys/link.hpp>
#include <hasys/sys/neighbour_discovery.hpp>
#include <hasys/sys/process.hpp>
