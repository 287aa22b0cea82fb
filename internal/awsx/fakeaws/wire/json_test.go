package wire

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/myappctl/myappctl/internal/awsx"
	"github.com/myappctl/myappctl/internal/awsx/fakeaws"
)

// TestSSMOverHTTP drives every operation of awsx.SSMAPI through the real
// SDK client (AWS JSON 1.1) and the HTTP server.
func TestSSMOverHTTP(t *testing.T) {
	tb := newTestbed(t)
	ctx := context.Background()
	c, fake := tb.ssm, tb.cloud.SSM
	path := "/myappctl/s/backend/"
	tags := awsx.StackTags("s", "backend-lb", "backend-settings").SSM()

	secret := &ssm.PutParameterInput{Name: aws.String(path + "DBPASSWORD"), Value: aws.String(`p&ss"w<rd`), Type: ssmtypes.ParameterTypeSecureString,
		Tags: tags, Description: aws.String("the database password")}
	if out := must(c.PutParameter(ctx, secret)).ok(t); out.Version != 1 || out.Tier != ssmtypes.ParameterTierStandard {
		t.Errorf("put = %+v", out)
	}
	_, err := c.PutParameter(ctx, secret)
	wantCode(t, err, "ParameterAlreadyExists")
	secret.Overwrite = aws.Bool(true)
	_, err = c.PutParameter(ctx, secret)
	wantCode(t, err, "ValidationException") // tags and overwrite
	secret.Tags = nil
	if out := must(c.PutParameter(ctx, secret)).ok(t); out.Version != 2 {
		t.Errorf("overwrite: version %d", out.Version)
	}
	for _, name := range []string{"DBURL", "DBPORT", "DBUSER"} {
		must(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(path + name), Value: aws.String("v-" + name), Type: ssmtypes.ParameterTypeString, Tags: tags})).ok(t)
	}
	_, err = c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("ssm-thing"), Value: aws.String("v"), Type: ssmtypes.ParameterTypeString})
	wantCode(t, err, "ValidationException")

	// By path, with and without decryption, as the paginator pages it.
	for _, decrypt := range []bool{false, true} {
		in := &ssm.GetParametersByPathInput{Path: aws.String(path), WithDecryption: aws.Bool(decrypt), MaxResults: aws.Int32(3)}
		var got []ssmtypes.Parameter
		pages := 0
		for p := ssm.NewGetParametersByPathPaginator(c, in); p.HasMorePages(); pages++ {
			got = append(got, must(p.NextPage(ctx)).ok(t).Parameters...)
		}
		if len(got) != 4 || pages != 2 || aws.ToString(got[0].Name) != path+"DBPASSWORD" || got[0].Version != 2 || got[0].LastModifiedDate == nil {
			t.Fatalf("decrypt %v: %d parameters in %d pages: %+v", decrypt, len(got), pages, got)
		}
		if plain := aws.ToString(got[0].Value) == `p&ss"w<rd`; plain != decrypt {
			t.Errorf("decrypt %v: the password reads %q", decrypt, aws.ToString(got[0].Value))
		}
		sameAsFake(t, "GetParametersByPath", must(c.GetParametersByPath(ctx, in)).ok(t), must(fake.GetParametersByPath(ctx, in)).ok(t))
	}
	_, err = c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String(path), MaxResults: aws.Int32(11)})
	wantCode(t, err, "ValidationException")
	getIn := &ssm.GetParametersInput{Names: []string{path + "DBURL", path + "GONE"}}
	got := must(c.GetParameters(ctx, getIn)).ok(t)
	if len(got.Parameters) != 1 || !slices.Equal(got.InvalidParameters, []string{path + "GONE"}) {
		t.Errorf("GetParameters = %+v", got)
	}
	sameAsFake(t, "GetParameters", got, must(fake.GetParameters(ctx, getIn)).ok(t))

	// Describe by tag and path: metadata only.
	descIn := &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
		{Key: aws.String("tag:" + awsx.TagStack), Values: []string{"s"}}, {Key: aws.String("Type"), Values: []string{"String"}},
		{Key: aws.String("Path"), Option: aws.String("Recursive"), Values: []string{"/myappctl/s"}}}}
	desc := must(c.DescribeParameters(ctx, descIn)).ok(t).Parameters
	if len(desc) != 3 || aws.ToString(desc[0].Name) != path+"DBPORT" || desc[0].Type != ssmtypes.ParameterTypeString || aws.ToString(desc[0].LastModifiedUser) == "" {
		t.Errorf("described = %+v", desc)
	}
	sameAsFake(t, "DescribeParameters", must(c.DescribeParameters(ctx, descIn)).ok(t), must(fake.DescribeParameters(ctx, descIn)).ok(t))
	all := must(c.DescribeParameters(ctx, &ssm.DescribeParametersInput{})).ok(t).Parameters
	if len(all) != 4 || aws.ToString(all[0].KeyId) != fakeaws.DefaultParameterKey || aws.ToString(all[0].Description) != "the database password" {
		t.Errorf("all = %+v", all)
	}
	_, err = c.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Colour"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidFilterKey")

	// Tags.
	id, pt := aws.String(path+"DBPASSWORD"), ssmtypes.ResourceTypeForTaggingParameter
	must(c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceId: id, ResourceType: pt, Tags: tags})).ok(t)
	must(c.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceId: id, ResourceType: pt, Tags: awsx.Tags{"stray": "1"}.SSM()})).ok(t)
	must(c.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceId: id, ResourceType: pt, TagKeys: []string{"stray"}})).ok(t)
	listed := must(c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceId: id, ResourceType: pt})).ok(t).TagList
	if m := awsx.SSMTagMap(listed); len(m) != 3 || !m.OwnedBy("s") {
		t.Errorf("tags = %v", m)
	}
	_, err = c.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceId: aws.String("/nope"), ResourceType: pt})
	wantCode(t, err, "InvalidResourceId")

	// Deletes.
	must(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: id})).ok(t)
	_, err = c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: id})
	wantCode(t, err, "ParameterNotFound")
	del := must(c.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{path + "DBURL", path + "DBPORT", path + "DBUSER", *id}})).ok(t)
	if len(del.DeletedParameters) != 3 || !slices.Equal(del.InvalidParameters, []string{*id}) || fake.Count()["parameter"] != 0 {
		t.Errorf("DeleteParameters = %+v", del)
	}

	// Every operation of the interface went over the wire.
	iface := reflect.TypeFor[awsx.SSMAPI]()
	for i := range iface.NumMethod() {
		if op := iface.Method(i).Name; tb.cloud.CountCalls(op) == 0 {
			t.Errorf("%s was not exercised", op)
		}
	}
}

func TestJSONWireFormat(t *testing.T) {
	tb := newTestbed(t)
	do := func(target, body string) (int, http.Header, string) {
		t.Helper()
		h := http.Header{"Content-Type": {"application/x-amz-json-1.1"}}
		if target != "" {
			h.Set("X-Amz-Target", target)
		}
		return tb.do(t, http.MethodPost, "/", "ssm", h, strings.NewReader(body))
	}
	status, h, body := do("AmazonSSM.PutParameter", `{"Name":"/w/a","Value":"x<y","Type":"SecureString"}`)
	if status != http.StatusOK || h.Get("Content-Type") != "application/x-amz-json-1.1" || body != `{"Tier":"Standard","Version":1}` {
		t.Errorf("put: %d %v %s", status, h, body)
	}
	status, _, body = do("AmazonSSM.GetParametersByPath", `{"Path":"/w","WithDecryption":true}`)
	var byPath struct{ Parameters []map[string]any }
	if err := json.Unmarshal([]byte(body), &byPath); status != http.StatusOK || err != nil || len(byPath.Parameters) != 1 ||
		byPath.Parameters[0]["Value"] != "x<y" || byPath.Parameters[0]["ARN"] != "arn:aws:ssm:us-east-1:"+fakeaws.Account+":parameter/w/a" {
		t.Errorf("by path: %d %s", status, body)
	}
	if _, ok := byPath.Parameters[0]["LastModifiedDate"].(float64); !ok {
		t.Errorf("LastModifiedDate is not epoch seconds: %s", body)
	}
	if status, _, body = do("AmazonSSM.DeleteParameter", `{"Name":"/w/a"}`); status != http.StatusOK || body != "{}" {
		t.Errorf("delete: %d %q", status, body)
	}
	for _, c := range []struct {
		name, target, body string
		want               string
	}{
		{"not found", "AmazonSSM.DeleteParameter", `{"Name":"/w/a"}`, `{"__type":"ParameterNotFound","message":"Parameter /w/a not found."}`},
		{"message member", "AmazonSSM.PutParameter", `{"Name":"awsx","Value":"v","Type":"String"}`, `{"__type":"ValidationException","Message":`},
		{"unknown operation", "AmazonSSM.SendCommand", `{}`, `{"__type":"UnknownOperationException"`},
		{"no target", "", `{}`, `{"__type":"UnknownOperationException"`},
		{"unknown member", "AmazonSSM.DeleteParameter", `{"Name":"/w/a","Bogus":1}`, `{"__type":"SerializationException"`},
		{"not JSON", "AmazonSSM.DeleteParameter", `{`, `{"__type":"SerializationException"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := do(c.target, c.body)
			if status != http.StatusBadRequest || !strings.HasPrefix(body, c.want) || h.Get("X-Amzn-Errortype") == "" {
				t.Errorf("%d %v\n%s\nwant %s", status, h, body, c.want)
			}
		})
	}
}

// ServiceOf tells the CLI's tests whether a client's service is served:
// SSM only while the account has the fake.
func TestServiceOf(t *testing.T) {
	client := ssm.New(ssm.Options{Region: "us-east-1"})
	cloud := fakeaws.New()
	if name, ok := NewServer(cloud).(*Server).ServiceOf(client); name != "ssm" || !ok {
		t.Errorf("ServiceOf(ssm) = %q %v", name, ok)
	}
	cloud.SSM = nil
	if name, ok := NewServer(cloud).(*Server).ServiceOf(client); name != "ssm" || ok {
		t.Errorf("without the fake: ServiceOf(ssm) = %q %v", name, ok)
	}
	if _, ok := NewServer(cloud).(*Server).ServiceOf(http.DefaultClient); ok {
		t.Error("an http.Client is served")
	}
}
