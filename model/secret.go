package model

// Secret is a secret value read from stack config (`pulumi config set
// --secret`). It prints and serialises as "[secret]", so a design, a plan
// or an error message never shows it; Reveal hands the value to the one
// place that wraps it in a Pulumi secret output.
type Secret string

// Redacted is how a Secret prints.
const Redacted = "[secret]"

// String hides the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON hides the value.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// Reveal returns the value, for pulumi.ToSecret and nothing else.
func (s Secret) Reveal() string { return string(s) }
