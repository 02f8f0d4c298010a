// Nanosecond counters pass 2^31 about two simulated seconds into a run. A field
// that starts as a small integer then changes representation in V8, which
// throws away the optimised code of every function using it, mid-run. Fields
// holding nanoseconds therefore start as a double zero.
export const NS_ZERO = -0;
