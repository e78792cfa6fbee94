package manifests

import (
	"fmt"
	"strconv"
	"strings"
)

// BinaryQuantity reads a storage quantity in bytes or binary units, as
// the API server returns what the program writes (2048Gi may come back as
// 2Ti).
func BinaryQuantity(q string) (int64, error) {
	for i, suffix := range []string{"Ki", "Mi", "Gi", "Ti", "Pi"} {
		if n, ok := strings.CutSuffix(q, suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			return v << (10 * (i + 1)), err
		}
	}
	v, err := strconv.ParseInt(q, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("quantity %q: want a count of bytes or of Ki, Mi, Gi, Ti or Pi", q)
	}
	return v, nil
}
