package policy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	policyv1a1 "gatewarden.dev/gatewarden/pkg/apis/policy/v1alpha1"
)

// World is an in-memory Lookup over a set of objects, as read from YAML files: the rules'
// test fixtures and offline checks use it. Its zero value is an empty world. Add objects
// with Add (or append to the slices); lookups index them on first use after a change.
// A World is not safe for concurrent use while objects are added.
type World struct {
	Namespaces     map[string]labels.Set
	Gateways       []*gwv1.Gateway
	ListenerSets   []*gwv1.ListenerSet
	GatewayClasses []*gwv1.GatewayClass
	Grants         []*gwv1.ReferenceGrant
	Routes         []*Route
	Policies       []*policyv1a1.TimeoutPolicy

	idx     *worldIndex
	indexed int
}

var _ Lookup = (*World)(nil)

// Object is one decoded document: its kind and a pointer to its v1 type (or, for a
// Namespace, its labels).
type Object struct {
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
	// Value is *gwv1.Gateway, *gwv1.HTTPRoute, ..., or labels.Set for a Namespace.
	Value any
	// Raw is the document as JSON.
	Raw []byte
	// Index and Line locate the document in its stream: its position (from 0) and the line
	// it starts on (from 1).
	Index, Line int
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// docLine is the line within a document that a YAML error names, or 1.
func docLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			return n
		}
	}
	return 1
}

// DecodeObjects reads multi-document YAML or JSON. Every document must have apiVersion and
// kind; Gateway API kinds must be served ones. Documents of other kinds are returned with a
// nil Value so that callers can decide what to do with them.
func DecodeObjects(r io.Reader) ([]Object, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var out []Object
	line := 1 // where the next document starts
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		start := line
		line += bytes.Count(doc, []byte("\n")) + 1 // the document and the "---" after it
		if err != nil {
			return nil, fmt.Errorf("line %d (document %d): %w", start, i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		raw, err := yaml.YAMLToJSONStrict(doc) // a duplicate key is an error, as in Decode
		if err != nil {
			return nil, fmt.Errorf("line %d (document %d): %w", start+docLine(err)-1, i, err)
		}
		if string(raw) == "null" {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Namespace string            `json:"namespace"`
				Name      string            `json:"name"`
				Labels    map[string]string `json:"labels"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("line %d (document %d): %w", start, i, err)
		}
		if head.APIVersion == "" || head.Kind == "" {
			return nil, fmt.Errorf("line %d (document %d): apiVersion and kind are required", start, i)
		}
		gv, err := schema.ParseGroupVersion(head.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("line %d (document %d): %w", start, i, err)
		}
		obj := Object{GVK: gv.WithKind(head.Kind), Namespace: head.Metadata.Namespace, Name: head.Metadata.Name, Raw: raw, Index: i, Line: start}
		switch {
		case obj.GVK.Group == "" && obj.GVK.Kind == "Namespace":
			obj.Value = labels.Set(head.Metadata.Labels)
		case obj.GVK.GroupKind() == policyv1a1.GroupVersion.WithKind("TimeoutPolicy").GroupKind():
			if obj.GVK.Version != policyv1a1.GroupVersion.Version {
				return nil, fmt.Errorf("line %d (document %d, %s %s): version %s is not served (served: %s)", start, i, obj.GVK.Kind, obj.Name, obj.GVK.Version, policyv1a1.GroupVersion.Version)
			}
			tp := &policyv1a1.TimeoutPolicy{}
			if err := DecodeJSON(raw, tp); err != nil {
				return nil, fmt.Errorf("line %d (document %d, %s %s): %w", start, i, obj.GVK.Kind, obj.Name, err)
			}
			obj.Value = tp
		case obj.GVK.Group == gwv1.GroupName:
			if obj.Value, err = newV1(gwv1.Kind(obj.GVK.Kind)); err == nil {
				err = Decode(obj.GVK, raw, obj.Value)
			}
			if err != nil {
				return nil, fmt.Errorf("line %d (document %d, %s %s): %w", start, i, obj.GVK.Kind, obj.Name, err)
			}
		}
		out = append(out, obj)
	}
}

func newV1(kind gwv1.Kind) (any, error) {
	switch kind {
	case KindGateway:
		return &gwv1.Gateway{}, nil
	case KindListenerSet:
		return &gwv1.ListenerSet{}, nil
	case "GatewayClass":
		return &gwv1.GatewayClass{}, nil
	case KindReferenceGrant:
		return &gwv1.ReferenceGrant{}, nil
	case KindHTTPRoute:
		return &gwv1.HTTPRoute{}, nil
	case KindGRPCRoute:
		return &gwv1.GRPCRoute{}, nil
	case KindTLSRoute:
		return &gwv1.TLSRoute{}, nil
	case KindTCPRoute:
		return &gwv1.TCPRoute{}, nil
	case KindUDPRoute:
		return &gwv1.UDPRoute{}, nil
	}
	return nil, fmt.Errorf("kind %s is not one Gatewarden reads", kind)
}

// ReduceRoute returns the Route of a decoded Route object, or nil for other objects.
func ReduceRoute(v any) *Route {
	switch o := v.(type) {
	case *gwv1.HTTPRoute:
		return RouteFromHTTPRoute(o)
	case *gwv1.GRPCRoute:
		return RouteFromGRPCRoute(o)
	case *gwv1.TLSRoute:
		return RouteFromTLSRoute(o)
	case *gwv1.TCPRoute:
		return RouteFromTCPRoute(o)
	case *gwv1.UDPRoute:
		return RouteFromUDPRoute(o)
	}
	return nil
}

// Add puts a decoded object into the world. Objects without a namespace get "default",
// as kubectl would do.
func (w *World) Add(obj Object) {
	if w.Namespaces == nil {
		w.Namespaces = map[string]labels.Set{}
	}
	setNS := func(ns *string) {
		if *ns == "" {
			*ns = "default"
		}
	}
	switch o := obj.Value.(type) {
	case labels.Set:
		// The API server labels every Namespace with its name (NamespaceDefaultLabelName),
		// and selectors commonly use that label.
		l := labels.Merge(o, labels.Set{"kubernetes.io/metadata.name": obj.Name})
		w.Namespaces[obj.Name] = l
	case *gwv1.Gateway:
		setNS(&o.Namespace)
		w.Gateways = append(w.Gateways, o)
	case *gwv1.ListenerSet:
		setNS(&o.Namespace)
		w.ListenerSets = append(w.ListenerSets, o)
	case *gwv1.GatewayClass:
		w.GatewayClasses = append(w.GatewayClasses, o)
	case *gwv1.ReferenceGrant:
		setNS(&o.Namespace)
		w.Grants = append(w.Grants, o)
	case *policyv1a1.TimeoutPolicy:
		setNS(&o.Namespace)
		w.Policies = append(w.Policies, o)
	default:
		if r := ReduceRoute(o); r != nil {
			if r.Namespace == "" {
				r.Namespace = "default"
			}
			w.Routes = append(w.Routes, r)
		}
	}
}

func notFound(resource, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: gwv1.GroupName, Resource: resource}, name)
}

// worldIndex holds the maps World's lookups read, so that a lookup costs the same in a
// world of a thousand objects as in one of a hundred thousand.
type worldIndex struct {
	gateways     map[types.NamespacedName]*gwv1.Gateway
	listenerSets map[types.NamespacedName]*gwv1.ListenerSet
	classes      map[string]*gwv1.GatewayClass
	grants       map[string][]*gwv1.ReferenceGrant
	byParent     map[string][]*Route
	referrers    map[string][]*Referrer
	routes       map[string]*Route
	byClass      map[string][]*gwv1.Gateway
	policies     map[string][]*policyv1a1.TimeoutPolicy
}

func worldParentKey(kind gwv1.Kind, namespace, name string) string {
	return string(kind) + "/" + namespace + "/" + name
}

// index returns the indexes, building them after objects were added.
func (w *World) index() *worldIndex {
	if w.idx != nil && w.indexed == w.count() {
		return w.idx
	}
	idx := &worldIndex{
		gateways:     map[types.NamespacedName]*gwv1.Gateway{},
		listenerSets: map[types.NamespacedName]*gwv1.ListenerSet{},
		classes:      map[string]*gwv1.GatewayClass{},
		grants:       map[string][]*gwv1.ReferenceGrant{},
		byParent:     map[string][]*Route{},
		referrers:    map[string][]*Referrer{},
		routes:       map[string]*Route{},
		byClass:      map[string][]*gwv1.Gateway{},
		policies:     map[string][]*policyv1a1.TimeoutPolicy{},
	}
	for _, p := range w.Policies {
		for _, key := range PolicyTargetKeys(p) {
			idx.policies[key] = append(idx.policies[key], p)
		}
	}
	addReferrer := func(r *Referrer) {
		seen := map[string]bool{}
		for _, ref := range r.Refs {
			if crossNamespace(r, ref) && !seen[ref.Namespace] {
				seen[ref.Namespace] = true
				idx.referrers[ref.Namespace] = append(idx.referrers[ref.Namespace], r)
			}
		}
	}
	for _, gw := range w.Gateways {
		idx.gateways[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}] = gw
		idx.byClass[string(gw.Spec.GatewayClassName)] = append(idx.byClass[string(gw.Spec.GatewayClassName)], gw)
		addReferrer(ReferrerFromGateway(gw))
	}
	for _, ls := range w.ListenerSets {
		idx.listenerSets[types.NamespacedName{Namespace: ls.Namespace, Name: ls.Name}] = ls
		addReferrer(ReferrerFromListenerSet(ls))
	}
	for _, gc := range w.GatewayClasses {
		idx.classes[gc.Name] = gc
	}
	for _, g := range w.Grants {
		idx.grants[g.Namespace] = append(idx.grants[g.Namespace], g)
	}
	for _, r := range w.Routes {
		idx.routes[worldParentKey(r.Kind, r.Namespace, r.Name)] = r
		seen := map[string]bool{}
		for _, ref := range r.ParentRefs {
			group, kind, ns := parentKey(ref, r.Namespace)
			key := worldParentKey(kind, ns, string(ref.Name))
			if group == Group && !seen[key] {
				seen[key] = true
				idx.byParent[key] = append(idx.byParent[key], r)
			}
		}
		addReferrer(&r.Referrer)
	}
	w.idx, w.indexed = idx, w.count()
	return idx
}

func (w *World) count() int {
	return len(w.Gateways) + len(w.ListenerSets) + len(w.GatewayClasses) + len(w.Grants) + len(w.Routes) + len(w.Policies)
}

// PolicyTargetKeys returns "Kind/namespace/name" for each object a TimeoutPolicy targets
// (namespace empty for a GatewayClass): the key TimeoutPolicies looks policies up by.
func PolicyTargetKeys(p *policyv1a1.TimeoutPolicy) []string {
	var keys []string
	for _, ref := range p.Spec.TargetRefs {
		ns := p.Namespace
		if ref.Kind == KindGatewayClass {
			ns = ""
		}
		key := worldParentKey(ref.Kind, ns, string(ref.Name))
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// Route implements Lookup.
func (w *World) Route(_ context.Context, kind gwv1.Kind, namespace, name string) (*Route, error) {
	if r, ok := w.index().routes[worldParentKey(kind, namespace, name)]; ok {
		return r, nil
	}
	return nil, notFound(strings.ToLower(string(kind))+"s", name)
}

// GatewaysOfClass implements Lookup.
func (w *World) GatewaysOfClass(_ context.Context, class string) ([]*gwv1.Gateway, error) {
	return w.index().byClass[class], nil
}

// TimeoutPolicies implements Lookup.
func (w *World) TimeoutPolicies(_ context.Context, kind gwv1.Kind, namespace, name string) ([]*policyv1a1.TimeoutPolicy, error) {
	return w.index().policies[worldParentKey(kind, namespace, name)], nil
}

// Gateway implements Lookup.
func (w *World) Gateway(_ context.Context, namespace, name string) (*gwv1.Gateway, error) {
	if gw, ok := w.index().gateways[types.NamespacedName{Namespace: namespace, Name: name}]; ok {
		return gw, nil
	}
	return nil, notFound("gateways", name)
}

// ListenerSet implements Lookup.
func (w *World) ListenerSet(_ context.Context, namespace, name string) (*gwv1.ListenerSet, error) {
	if ls, ok := w.index().listenerSets[types.NamespacedName{Namespace: namespace, Name: name}]; ok {
		return ls, nil
	}
	return nil, notFound("listenersets", name)
}

// GatewayClass implements Lookup.
func (w *World) GatewayClass(_ context.Context, name string) (*gwv1.GatewayClass, error) {
	if gc, ok := w.index().classes[name]; ok {
		return gc, nil
	}
	return nil, notFound("gatewayclasses", name)
}

// NamespaceLabels implements Lookup.
func (w *World) NamespaceLabels(_ context.Context, name string) (labels.Set, error) {
	if l, ok := w.Namespaces[name]; ok {
		return l, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, name)
}

// ReferenceGrants implements Lookup.
func (w *World) ReferenceGrants(_ context.Context, namespace string) ([]*gwv1.ReferenceGrant, error) {
	return w.index().grants[namespace], nil
}

// RoutesForParent implements Lookup.
func (w *World) RoutesForParent(_ context.Context, parentKind gwv1.Kind, namespace, name string) ([]*Route, error) {
	return w.index().byParent[worldParentKey(parentKind, namespace, name)], nil
}

// ReferrersInto implements Lookup.
func (w *World) ReferrersInto(_ context.Context, namespace string) ([]*Referrer, error) {
	return w.index().referrers[namespace], nil
}
