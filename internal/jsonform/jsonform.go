// Package jsonform turns a value into its JSON form: what encoding it and
// decoding it again gives. The JSON tags decide the keys, and a value the
// program builds compares with one read back from state, a stack output
// or a file.
package jsonform

import "encoding/json"

// Value is v as JSON decodes it into an any: maps of string keys, lists,
// strings, float64s, bools and nulls.
func Value(v any) (any, error) {
	var out any
	err := Decode(v, &out) // before out is read: a return's operands have no order
	return out, err
}

// Decode reads v's JSON form into out, a pointer: a tree decoded from
// JSON into a typed value, or a typed value into a tree.
func Decode(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
