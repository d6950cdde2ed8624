// Package defaults fills the unset fields of a package's Config from its
// DefaultConfig, so that log, raftnode, stream and api share one rule for
// what "unset" means instead of a hand-written if per field: zero, or for
// a signed number (a count, a size, a duration) zero or less.
package defaults

import "reflect"

// Fill sets each exported field of *c that is unset to the same field of
// d, where d's is set. A field is unset when it is zero or, for a signed
// integer or a float, negative. T must be a struct type. A default of
// true for a bool panics: false (set) could not be told from unset, so
// such an option must be named for its non-default side (NoX, zero = on).
func Fill[T any](c *T, d T) {
	cv, dv := reflect.ValueOf(c).Elem(), reflect.ValueOf(d)
	for i := range cv.NumField() {
		f, df := cv.Field(i), dv.Field(i)
		if df.Kind() == reflect.Bool && df.Bool() {
			panic("defaults.Fill: field " + cv.Type().Field(i).Name + " defaults to true, which cannot be told from an unset false")
		}
		if f.CanSet() && !df.IsZero() && unset(f) {
			f.Set(df)
		}
	}
}

func unset(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() <= 0
	case reflect.Float32, reflect.Float64:
		return v.Float() <= 0
	}
	return v.IsZero()
}
