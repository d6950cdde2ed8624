package faultfs

// Stats counts what a FS did since it was opened.
type Stats struct {
	Writes, Syncs int64
	// FailedSyncs and FailedWrites count injected errors.
	FailedSyncs, FailedWrites int64
	// PowerCuts counts PowerCut calls; LostBytes the bytes they reverted.
	PowerCuts int
	LostBytes int64
}
