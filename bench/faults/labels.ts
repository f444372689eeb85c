// Counter names shared by the workers, which count them, and the coordinator, which reads them.

/** A completion refused because the handler outlived its (deliberately lapsed) lease. */
export const LATE_COMPLETION_REFUSED = 'injected: lease lapsed, late completion refused (LeaseLostError)';
