// Package reqbody reads a field of a request body the way PocketBase's own handlers bind it.
//
// A PocketBase handler binds its body into a struct (router.Event.BindBody): JSON names match
// case-insensitively and regardless of '-' and '_' ("Identity", "IDENTITY" and "iden_tity" all
// fill identity), a repeated form field gives its first value, and a form's @jsonPayload is
// decoded as JSON again. RequestInfo().Body keeps the names and values as they were sent. A
// middleware or hook that read that map would see no identity where PocketBase signs one in,
// so every read of a field a PocketBase handler binds goes through String, which binds the same
// way.
package reqbody

import (
	"fmt"
	"reflect"

	"github.com/pocketbase/pocketbase/core"
)

// String returns the string field name of e's body as a PocketBase handler binding a struct
// field tagged json:"name" form:"name" xml:"name" gets it ("" when the body does not set it),
// or the error that binding returns (the handler refuses such a body too).
func String(e *core.RequestEvent, name string) (string, error) {
	typ := reflect.StructOf([]reflect.StructField{{
		Name: "Value",
		Type: reflect.TypeFor[string](),
		Tag:  reflect.StructTag(fmt.Sprintf(`json:%q form:%q xml:%q`, name, name, name)),
	}})
	dst := reflect.New(typ)
	if err := e.BindBody(dst.Interface()); err != nil {
		return "", err
	}
	return dst.Elem().Field(0).String(), nil
}
