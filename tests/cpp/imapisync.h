// The C++ hosts' declarations moved to include/imapisync.h, the header the
// crate ships; this forwards to it (with the test hosts' IMAPISession) for a
// host that still includes it here.
#include "imapisession.h"
