/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <stdlib.h>

int
main(int argc, char **argv)
{
    return EXIT_SUCCESS;
}
