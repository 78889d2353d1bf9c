package customer

import (
	"encoding/json"
	"strings"
)

// UnmarshalJSON reads a country as a code ("VN") or as {code, name}.
func (c *Country) UnmarshalJSON(b []byte) error {
	if s := strings.TrimSpace(string(b)); strings.HasPrefix(s, `"`) {
		var code string
		if err := json.Unmarshal(b, &code); err != nil {
			return err
		}
		*c = Country{Code: code}
		return nil
	}
	type plain Country
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = Country(p)
	return nil
}
