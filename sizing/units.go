package sizing

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Byte multipliers. SI units are powers of 1000, IEC units powers of 1024.
const (
	KB int64 = 1000
	MB       = 1000 * KB
	GB       = 1000 * MB
	TB       = 1000 * GB
	PB       = 1000 * TB

	KiB int64 = 1024
	MiB       = 1024 * KiB
	GiB       = 1024 * MiB
	TiB       = 1024 * GiB
	PiB       = 1024 * TiB
)

// sizeUnits maps an upper-cased unit suffix to its multiplier.
var sizeUnits = map[string]int64{
	"B":   1,
	"KB":  KB,
	"MB":  MB,
	"GB":  GB,
	"TB":  TB,
	"PB":  PB,
	"KIB": KiB,
	"MIB": MiB,
	"GIB": GiB,
	"TIB": TiB,
	"PIB": PiB,
	// Kubernetes quantity spellings of the IEC units.
	"KI": KiB,
	"MI": MiB,
	"GI": GiB,
	"TI": TiB,
	"PI": PiB,
}

// SizeUnitsHelp lists the size units ParseSize accepts, for error messages.
const SizeUnitsHelp = "B, KB, MB, GB, TB, PB (powers of 1000) or KiB, MiB, GiB, TiB, PiB (powers of 1024; Ki, Mi, Gi, Ti, Pi also accepted)"

// ParseSize parses a byte size such as "1KB" (1000 bytes), "1KiB" (1024 bytes),
// "4TB" or "1.5GiB". A unit is required: a bare number is ambiguous and rejected.
func ParseSize(s string) (int64, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty size: want a number with a unit (%s)", SizeUnitsHelp)
	}
	i := strings.IndexFunc(in, func(r rune) bool { return !(unicode.IsDigit(r) || r == '.') })
	if i < 0 {
		return 0, fmt.Errorf("size %q has no unit: want one of %s", s, SizeUnitsHelp)
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q does not start with a number", s)
	}
	num, unit := in[:i], strings.ToUpper(strings.TrimSpace(in[i:]))
	mult, ok := sizeUnits[unit]
	if !ok {
		return 0, fmt.Errorf("size %q has unknown unit %q: want one of %s", s, in[i:], SizeUnitsHelp)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: bad number %q", s, num)
	}
	bytes := v * float64(mult)
	if bytes > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return int64(math.Round(bytes)), nil
}

// FormatSI renders bytes with SI units (1 KB = 1000 bytes), three significant digits.
func FormatSI(bytes float64) string {
	units := []string{"B", "KB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	for math.Abs(bytes) >= 1000 && i < len(units)-1 {
		bytes /= 1000
		i++
	}
	return strconv.FormatFloat(bytes, 'g', 4, 64) + " " + units[i]
}

// ParseDuration parses a Go duration ("90m", "3h") and also accepts whole or
// fractional days ("7d", "1.5d"), which Pulsar retention settings are usually
// written in.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if strings.HasSuffix(in, "d") {
		v, err := strconv.ParseFloat(strings.TrimSuffix(in, "d"), 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: bad number of days", s)
		}
		return time.Duration(v * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(in)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a Go duration such as 90m or 3h, or days such as 7d", s)
	}
	return d, nil
}
