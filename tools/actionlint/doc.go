// Package actionlint pins the actionlint version the workflow test builds.
package actionlint
