package server

import "time"

// ShutdownTimeout is how long in-flight requests get to finish after SIGTERM;
// it is well under the target group's deregistration delay.
const ShutdownTimeout = 10 * time.Second
