package model

// BookKeeper journal settings: the bookies run with them and the planner
// sizes the journal volume for them (sizing.NewVolumes). BookKeeper keeps
// JournalBackups old journal files of JournalFileMiB beyond the last
// checkpoint, and every file since it. The program sets journalMaxSizeMB
// (pulsar.BookieConfig); the Pulsar chart's bookkeeper ConfigMap fixes
// journalMaxBackups at "0" in its template, where configData cannot
// override it (the render tier checks both against the rendered chart).
const (
	JournalFileMiB = 2048
	JournalBackups = 0
)
