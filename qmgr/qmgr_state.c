/* qmgr_state - the queue manager's global state (see qmgr.h). */
#include "qmgr.h"

QMGR_STATE qmgr;
