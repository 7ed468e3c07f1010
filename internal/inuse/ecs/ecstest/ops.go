package ecstest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Page sizes of the list operations, as ECS documents them.
const (
	listClustersDefault = 100
	listServicesDefault = 10
	listTasksDefault    = 100
	maxResultsLimit     = 100
	describeServicesMax = 10
	describeTasksMax    = 100
)

// pageToken is what a nextToken carries: its operation and the key the next page starts
// after.
type pageToken struct {
	Op    string `json:"o"`
	After string `json:"a"`
}

// page returns the page of the sorted keys that token and maxResults select, and the
// token of the next page, if any.
func page(op string, keys []string, token string, maxResults *int, def int) ([]string, string, *apiError) {
	n := def
	if maxResults != nil {
		n = *maxResults
		if n < 1 || n > maxResultsLimit {
			return nil, "", &apiError{code: "InvalidParameterException", message: fmt.Sprintf("maxResults must be between 1 and %d", maxResultsLimit)}
		}
	}
	start := 0
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		var t pageToken
		if err != nil || json.Unmarshal(b, &t) != nil || t.Op != op || t.After == "" {
			return nil, "", &apiError{code: "InvalidParameterException", message: "Invalid nextToken"}
		}
		start, _ = slices.BinarySearch(keys, t.After+"\x00")
	}
	end := min(start+n, len(keys))
	next := ""
	if end < len(keys) {
		b, _ := json.Marshal(pageToken{Op: op, After: keys[end-1]})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return keys[start:end], next, nil
}

type listOut struct {
	ClusterArns []string `json:"clusterArns,omitempty"`
	ServiceArns []string `json:"serviceArns,omitempty"`
	TaskArns    []string `json:"taskArns,omitempty"`
	NextToken   string   `json:"nextToken,omitempty"`
}

func (s *Server) listClusters(body []byte) (any, *apiError) {
	var in struct {
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var arns []string
	for name := range s.clusters {
		arns = append(arns, ClusterARN(name))
	}
	slices.Sort(arns)
	p, next, err := page("ListClusters", arns, in.NextToken, in.MaxResults, listClustersDefault)
	if err != nil {
		return nil, err
	}
	return listOut{ClusterArns: p, NextToken: next}, nil
}

// lookupCluster returns the cluster a request names, and its name.
func (s *Server) lookupCluster(c string) (*cluster, string, *apiError) {
	name := clusterName(c)
	cl, ok := s.clusters[name]
	if !ok {
		return nil, "", &apiError{code: "ClusterNotFoundException", message: "Cluster not found."}
	}
	return cl, name, nil
}

func (s *Server) listServices(body []byte) (any, *apiError) {
	var in struct {
		Cluster    string `json:"cluster"`
		NextToken  string `json:"nextToken"`
		MaxResults *int   `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	c, name, err := s.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for svc := range c.services {
		arns = append(arns, ServiceARN(name, svc))
	}
	slices.Sort(arns)
	p, next, err := page("ListServices", arns, in.NextToken, in.MaxResults, listServicesDefault)
	if err != nil {
		return nil, err
	}
	return listOut{ServiceArns: p, NextToken: next}, nil
}

func (s *Server) listTasks(body []byte) (any, *apiError) {
	var in struct {
		Cluster       string `json:"cluster"`
		DesiredStatus string `json:"desiredStatus"`
		NextToken     string `json:"nextToken"`
		MaxResults    *int   `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	switch in.DesiredStatus {
	case "":
		in.DesiredStatus = "RUNNING"
	case "RUNNING", "PENDING", "STOPPED":
	default:
		return nil, &apiError{code: "InvalidParameterException", message: "desiredStatus must be RUNNING, PENDING or STOPPED"}
	}
	c, name, err := s.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	var arns []string
	for id, t := range c.tasks {
		if t.DesiredStatus == in.DesiredStatus {
			arns = append(arns, TaskARN(name, id))
		}
	}
	slices.Sort(arns)
	p, next, err := page("ListTasks", arns, in.NextToken, in.MaxResults, listTasksDefault)
	if err != nil {
		return nil, err
	}
	return listOut{TaskArns: p, NextToken: next}, nil
}

// lastPart returns what follows the last '/' of an ARN, or the identifier itself.
func lastPart(id string) string {
	return id[strings.LastIndexByte(id, '/')+1:]
}

// idList checks the identifiers of a Describe request: at least one, at most limit.
func idList(member string, ids []string, limit int) *apiError {
	if len(ids) == 0 || len(ids) > limit {
		return &apiError{code: "InvalidParameterException", message: fmt.Sprintf("%s must have between 1 and %d items", member, limit)}
	}
	return nil
}

type describeOut struct {
	Services []serviceOut `json:"services,omitempty"`
	Tasks    []taskOut    `json:"tasks,omitempty"`
	Failures []failure    `json:"failures"`
}

type serviceOut struct {
	ServiceARN     string          `json:"serviceArn"`
	ServiceName    string          `json:"serviceName"`
	ClusterARN     string          `json:"clusterArn"`
	Status         string          `json:"status"`
	TaskDefinition string          `json:"taskDefinition,omitempty"`
	Deployments    []deploymentOut `json:"deployments"`
	TaskSets       []taskSetOut    `json:"taskSets,omitempty"`
}

type deploymentOut struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	TaskDefinition string `json:"taskDefinition"`
}

type taskSetOut struct {
	ID             string `json:"id"`
	TaskSetARN     string `json:"taskSetArn"`
	ServiceARN     string `json:"serviceArn"`
	ClusterARN     string `json:"clusterArn"`
	Status         string `json:"status"`
	TaskDefinition string `json:"taskDefinition"`
}

func (s *Server) describeServices(body []byte) (any, *apiError) {
	var in struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := idList("services", in.Services, describeServicesMax); err != nil {
		return nil, err
	}
	c, name, err := s.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := describeOut{Failures: []failure{}}
	for _, id := range in.Services {
		itemARN := ServiceARN(name, lastPart(id))
		svc, ok := c.services[lastPart(id)]
		if f, failed := s.items[itemARN]; failed || !ok {
			if !failed {
				f = failure{ARN: itemARN, Reason: "MISSING"}
			}
			out.Failures = append(out.Failures, f)
			continue
		}
		so := serviceOut{ServiceARN: itemARN, ServiceName: svc.Name, ClusterARN: ClusterARN(name), Status: "ACTIVE", Deployments: []deploymentOut{}}
		for _, d := range svc.Deployments {
			so.Deployments = append(so.Deployments, deploymentOut(d))
			if d.Status == "PRIMARY" {
				so.TaskDefinition = d.TaskDefinition
			}
		}
		for _, ts := range svc.TaskSets {
			so.TaskSets = append(so.TaskSets, taskSetOut{
				ID:             ts.ID,
				TaskSetARN:     arn("task-set/" + name + "/" + svc.Name + "/" + lastPart(ts.ID)),
				ServiceARN:     itemARN,
				ClusterARN:     ClusterARN(name),
				Status:         ts.Status,
				TaskDefinition: ts.TaskDefinition,
			})
			if ts.Status == "PRIMARY" {
				so.TaskDefinition = ts.TaskDefinition
			}
		}
		out.Services = append(out.Services, so)
	}
	return out, nil
}

type taskOut struct {
	TaskARN           string         `json:"taskArn"`
	ClusterARN        string         `json:"clusterArn"`
	TaskDefinitionARN string         `json:"taskDefinitionArn,omitempty"`
	LastStatus        string         `json:"lastStatus"`
	DesiredStatus     string         `json:"desiredStatus"`
	Containers        []containerOut `json:"containers"`
}

type containerOut struct {
	ContainerARN string `json:"containerArn"`
	TaskARN      string `json:"taskArn"`
	Name         string `json:"name"`
	Image        string `json:"image,omitempty"`
	ImageDigest  string `json:"imageDigest,omitempty"`
	LastStatus   string `json:"lastStatus"`
}

func (s *Server) describeTasks(body []byte) (any, *apiError) {
	var in struct {
		Cluster string   `json:"cluster"`
		Tasks   []string `json:"tasks"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := idList("tasks", in.Tasks, describeTasksMax); err != nil {
		return nil, err
	}
	c, name, err := s.lookupCluster(in.Cluster)
	if err != nil {
		return nil, err
	}
	out := describeOut{Failures: []failure{}}
	for _, id := range in.Tasks {
		itemARN := TaskARN(name, lastPart(id))
		t, ok := c.tasks[lastPart(id)]
		if f, failed := s.items[itemARN]; failed || !ok {
			if !failed {
				f = failure{ARN: itemARN, Reason: "MISSING"}
			}
			out.Failures = append(out.Failures, f)
			continue
		}
		to := taskOut{
			TaskARN:           itemARN,
			ClusterARN:        ClusterARN(name),
			TaskDefinitionARN: t.TaskDefinition,
			LastStatus:        t.LastStatus,
			DesiredStatus:     t.DesiredStatus,
			Containers:        []containerOut{},
		}
		for n, ctr := range t.Containers {
			to.Containers = append(to.Containers, containerOut{
				ContainerARN: arn(fmt.Sprintf("container/%s/%s/%08d", name, t.ID, n)),
				TaskARN:      itemARN,
				Name:         ctr.Name,
				Image:        ctr.Image,
				ImageDigest:  ctr.ImageDigest,
				LastStatus:   t.LastStatus,
			})
		}
		out.Tasks = append(out.Tasks, to)
	}
	return out, nil
}

type taskDefinitionOut struct {
	TaskDefinition struct {
		TaskDefinitionARN    string                `json:"taskDefinitionArn"`
		Family               string                `json:"family"`
		Revision             int                   `json:"revision"`
		Status               string                `json:"status"`
		ContainerDefinitions []containerDefinition `json:"containerDefinitions"`
	} `json:"taskDefinition"`
}

type containerDefinition struct {
	Name      string `json:"name"`
	Image     string `json:"image"`
	Essential bool   `json:"essential"`
}

func (s *Server) describeTaskDefinition(body []byte) (any, *apiError) {
	var in struct {
		TaskDefinition string `json:"taskDefinition"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	key := in.TaskDefinition
	if _, k, ok := strings.Cut(key, ":task-definition/"); ok {
		key = k
	}
	if family, rev, ok := strings.Cut(key, ":"); !ok {
		key = fmt.Sprintf("%s:%d", key, s.revisions[key])
	} else if _, err := strconv.Atoi(rev); err != nil || family == "" {
		key = ""
	}
	td, ok := s.taskDefs[key]
	if !ok {
		return nil, &apiError{code: "ClientException", message: "Unable to describe task definition."}
	}
	var out taskDefinitionOut
	out.TaskDefinition.TaskDefinitionARN = td.arn()
	out.TaskDefinition.Family = td.family
	out.TaskDefinition.Revision = td.revision
	out.TaskDefinition.Status = "ACTIVE"
	out.TaskDefinition.ContainerDefinitions = []containerDefinition{}
	for _, c := range td.containers {
		out.TaskDefinition.ContainerDefinitions = append(out.TaskDefinition.ContainerDefinitions, containerDefinition{Name: c.Name, Image: c.Image, Essential: true})
	}
	return out, nil
}
