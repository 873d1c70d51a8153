// IMAPISession for the C++ test hosts, which pass a session of their own in
// MAPISIB and count its references. MAPI's mapix.h declares it in full;
// include/imapisync.h only names it, so a host that includes mapix.h gets
// MAPI's declaration and these hosts, which do not, get its IUnknown part.
#ifndef MAPISYNC_TESTS_IMAPISESSION_H
#define MAPISYNC_TESTS_IMAPISESSION_H

#include "../../include/imapisync.h"

struct IMAPISession : public IUnknown {};

#endif  // MAPISYNC_TESTS_IMAPISESSION_H
