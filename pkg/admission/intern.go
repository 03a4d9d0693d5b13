package admission

import (
	"sync"
	"unique"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// interner makes cached objects share what they repeat: strings (namespace names, Gateway
// and section names, groups and kinds) through package unique, and the small values that
// Gateway API keeps behind pointers (a parentRef's *Namespace, *Group, *Kind, *PortNumber)
// through one shared pointer per value. Sharing is safe because cached objects are never
// written to (CacheOptions hands them out without copying, and the rules only read).
type interner struct {
	mu   sync.Mutex
	ptrs map[any]any
}

func newInterner() *interner { return &interner{ptrs: map[any]any{}} }

// str interns a string-like value.
func str[T ~string](s T) T {
	if s == "" {
		return s
	}
	return T(unique.Make(string(s)).Value())
}

// sharedPtr returns the shared pointer for *p's value.
func sharedPtr[T comparable](in *interner, p *T) *T {
	if p == nil {
		return nil
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if shared, ok := in.ptrs[*p]; ok {
		if sp, ok := shared.(*T); ok {
			return sp
		}
	}
	v := *p
	in.ptrs[v] = &v
	return &v
}

// strPtr interns a pointer to a string-like value: the pointer and the string both.
func strPtr[T ~string](in *interner, p *T) *T {
	if p == nil {
		return nil
	}
	v := str(*p)
	return sharedPtr(in, &v)
}

func (in *interner) parentRefs(refs []gwv1.ParentReference) {
	for i := range refs {
		r := &refs[i]
		r.Group, r.Kind, r.Namespace = strPtr(in, r.Group), strPtr(in, r.Kind), strPtr(in, r.Namespace)
		r.Name, r.SectionName, r.Port = str(r.Name), strPtr(in, r.SectionName), sharedPtr(in, r.Port)
	}
}

func (in *interner) backendRef(r *gwv1.BackendObjectReference) {
	r.Group, r.Kind, r.Namespace = strPtr(in, r.Group), strPtr(in, r.Kind), strPtr(in, r.Namespace)
	r.Name, r.Port = str(r.Name), sharedPtr(in, r.Port)
}

func (in *interner) listeners(ls []gwv1.Listener) {
	for i := range ls {
		l := &ls[i]
		l.Name, l.Protocol, l.Hostname = str(l.Name), str(l.Protocol), strPtr(in, l.Hostname)
		if ar := l.AllowedRoutes; ar != nil {
			if ar.Namespaces != nil {
				ar.Namespaces.From = strPtr(in, ar.Namespaces.From)
			}
			for j := range ar.Kinds {
				ar.Kinds[j].Group, ar.Kinds[j].Kind = strPtr(in, ar.Kinds[j].Group), str(ar.Kinds[j].Kind)
			}
		}
		if l.TLS != nil {
			for j := range l.TLS.CertificateRefs {
				c := &l.TLS.CertificateRefs[j]
				c.Group, c.Kind, c.Namespace = strPtr(in, c.Group), strPtr(in, c.Kind), strPtr(in, c.Namespace)
			}
		}
	}
}
