package model

// BookKeeper journal settings: the bookies run with them
// (pulsar.BookieConfig: journalMaxSizeMB, journalMaxBackups) and the
// planner sizes the journal volume for them (sizing.NewVolumes). BookKeeper
// keeps JournalBackups old journal files of JournalFileMiB beyond the last
// checkpoint, and every file since it.
const (
	JournalFileMiB = 2048
	JournalBackups = 5
)
