package fakeaws

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

func put(name, value string, typ types.ParameterType) *ssm.PutParameterInput {
	return &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: typ}
}

func mustPut(t *testing.T, f *SSM, in *ssm.PutParameterInput) int64 {
	t.Helper()
	out, err := f.PutParameter(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return out.Version
}

func TestPutParameterValidatesLikeAWS(t *testing.T) {
	deep := strings.Repeat("/l", 15)
	long := "/" + strings.Repeat("n", maxParameterARN-len(ParameterARN("us-east-1", "/")))
	tagged := put("/app/tagged", "v", types.ParameterTypeString)
	tagged.Tags = awsx.Tags{"k": "v"}.SSM()
	tagged.Overwrite = aws.Bool(true)
	big := strings.Repeat("x", maxStandard+1)
	for _, c := range []struct {
		name string
		in   *ssm.PutParameterInput
		code string // "" = accepted
	}{
		{"plain name", put("plain", "v", types.ParameterTypeString), ""},
		{"hierarchy", put("/myappctl/s/backend/DBURL", "db", types.ParameterTypeString), ""},
		{"15 levels", put(deep, "v", types.ParameterTypeString), ""},
		{"16 levels", put(deep+"/x", "v", types.ParameterTypeString), "HierarchyLevelLimitExceededException"},
		{"ARN of 1011 characters", put(long, "v", types.ParameterTypeString), ""},
		{"ARN of 1012 characters", put(long+"n", "v", types.ParameterTypeString), "ValidationException"},
		{"space", put("/app/a b", "v", types.ParameterTypeString), "ValidationException"},
		{"hierarchy without leading slash", put("app/x", "v", types.ParameterTypeString), "ValidationException"},
		{"empty level", put("/app//x", "v", types.ParameterTypeString), "ValidationException"},
		{"trailing slash", put("/app/x/", "v", types.ParameterTypeString), "ValidationException"},
		{"aws prefix", put("awsThing", "v", types.ParameterTypeString), "ValidationException"},
		{"SSM prefix in a hierarchy", put("/SSM/thing", "v", types.ParameterTypeString), "ValidationException"},
		{"no type on create", put("/app/untyped", "v", ""), "ValidationException"},
		{"unknown type", put("/app/odd", "v", "Secret"), "ValidationException"},
		{"empty value", put("/app/empty", "", types.ParameterTypeString), "ValidationException"},
		{"4 KB standard", put("/app/4k", big[1:], types.ParameterTypeString), ""},
		{"over 4 KB standard", put("/app/big", big, types.ParameterTypeString), "ValidationException"},
		{"over 4 KB advanced", &ssm.PutParameterInput{Name: aws.String("/app/adv"), Value: aws.String(big), Type: types.ParameterTypeString, Tier: types.ParameterTierAdvanced}, ""},
		{"key for a String", &ssm.PutParameterInput{Name: aws.String("/app/k"), Value: aws.String("v"), Type: types.ParameterTypeString, KeyId: aws.String("alias/x")}, "ValidationException"},
		{"tags with overwrite", tagged, "ValidationException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := NewSSM(NewCore(), "us-east-1")
			_, err := f.PutParameter(ctx, c.in)
			if awsx.ErrorCode(err) != c.code {
				t.Fatalf("err = %v, want %q", err, c.code)
			}
			if _, ok := f.Parameter(aws.ToString(c.in.Name)); ok != (c.code == "") {
				t.Errorf("parameter stored = %v", ok)
			}
		})
	}
}

func TestParameterVersionsTypesAndKeys(t *testing.T) {
	f := NewSSM(NewCore(), "us-east-1")
	name := "/myappctl/s/backend/DBPASSWORD"
	in := put(name, "s3cret", types.ParameterTypeSecureString)
	in.Tags = awsx.StackTags("s", "rds", name).SSM()
	if v := mustPut(t, f, in); v != 1 {
		t.Fatalf("version %d", v)
	}
	_, err := f.PutParameter(ctx, put(name, "other", types.ParameterTypeSecureString))
	wantCode(t, err, "ParameterAlreadyExists")
	// Overwrites: each is a new version, even with the same value; the type
	// and key are kept when not given.
	for i, value := range []string{"n3w", "n3w"} {
		again := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Overwrite: aws.Bool(true)}
		if v := mustPut(t, f, again); v != int64(i+2) {
			t.Errorf("overwrite %d: version %d", i, v)
		}
	}
	p, _ := f.Parameter(name)
	if p.Type != types.ParameterTypeSecureString || p.KeyID != DefaultParameterKey || p.Value != "n3w" || p.Version != 3 ||
		p.Tier != types.ParameterTierStandard || !p.Tags.OwnedBy("s") {
		t.Errorf("parameter = %+v", p)
	}
	// A type change: AWS makes it; with TypeChangeFails, the fake refuses as some clouds do.
	asString := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("plain"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)}
	f.TypeChangeFails = true
	_, err = f.PutParameter(ctx, asString)
	wantCode(t, err, "HierarchyTypeMismatchException")
	f.TypeChangeFails = false
	mustPut(t, f, asString)
	if p, _ := f.Parameter(name); p.Type != types.ParameterTypeString || p.KeyID != "" || p.Version != 4 {
		t.Errorf("after the type change = %+v", p)
	}
	// A lost response: the parameter was written; the retry sees it.
	f.Inject("PutParameter", Fault{Err: ServerError(), AfterEffect: true})
	_, err = f.PutParameter(ctx, put("/app/lost", "v", types.ParameterTypeString))
	wantCode(t, err, "InternalError")
	_, err = f.PutParameter(ctx, put("/app/lost", "v", types.ParameterTypeString))
	wantCode(t, err, "ParameterAlreadyExists")
}

// settingsFixture holds two tiers' settings and a deeper parameter.
func settingsFixture(t *testing.T) *SSM {
	t.Helper()
	f := NewSSM(NewCore(), "us-east-1")
	for _, p := range []struct {
		name string
		typ  types.ParameterType
		tier string
	}{
		{"/myappctl/s/backend/DBURL", types.ParameterTypeString, "backend"},
		{"/myappctl/s/backend/DBPASSWORD", types.ParameterTypeSecureString, "backend"},
		{"/myappctl/s/backend/deeper/X", types.ParameterTypeString, "backend"},
		{"/myappctl/s/frontend/APIURL", types.ParameterTypeString, "frontend"},
		{"/myappctl/other/frontend/APIURL", types.ParameterTypeString, "frontend"},
	} {
		in := put(p.name, "value of "+p.name, p.typ)
		in.Tags = awsx.Tags{awsx.TagStack: strings.Split(p.name, "/")[2], "tier": p.tier}.SSM()
		mustPut(t, f, in)
	}
	return f
}

func names(ps []types.Parameter) []string {
	var out []string
	for _, p := range ps {
		out = append(out, aws.ToString(p.Name))
	}
	return out
}

func TestGetParametersByPath(t *testing.T) {
	f := settingsFixture(t)
	for _, c := range []struct {
		name string
		in   ssm.GetParametersByPathInput
		want []string
		code string
	}{
		{"one level", ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s/backend")},
			[]string{"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL"}, ""},
		{"trailing slash", ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s/backend/")},
			[]string{"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL"}, ""},
		{"recursive", ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s"), Recursive: aws.Bool(true)},
			[]string{"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL", "/myappctl/s/backend/deeper/X", "/myappctl/s/frontend/APIURL"}, ""},
		{"a parameter is not its own path", ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s/frontend/APIURL")}, nil, ""},
		{"no prefix match across a level", ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s/back")}, nil, ""},
		{"type filter", ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s/backend"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("Type"), Values: []string{"SecureString"}}}},
			[]string{"/myappctl/s/backend/DBPASSWORD"}, ""},
		{"relative path", ssm.GetParametersByPathInput{Path: aws.String("myappctl/s")}, nil, "ValidationException"},
		{"MaxResults 0", ssm.GetParametersByPathInput{Path: aws.String("/myappctl"), MaxResults: aws.Int32(0)}, nil, "ValidationException"},
		{"MaxResults 11", ssm.GetParametersByPathInput{Path: aws.String("/myappctl"), MaxResults: aws.Int32(11)}, nil, "ValidationException"},
		{"tag filter is not for paths", ssm.GetParametersByPathInput{Path: aws.String("/myappctl"),
			ParameterFilters: []types.ParameterStringFilter{{Key: aws.String("tag:tier"), Values: []string{"backend"}}}}, nil, "InvalidFilterKey"},
		{"bad token", ssm.GetParametersByPathInput{Path: aws.String("/myappctl"), NextToken: aws.String("%%%")}, nil, "InvalidNextToken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := f.GetParametersByPath(ctx, &c.in)
			if awsx.ErrorCode(err) != c.code {
				t.Fatalf("err = %v, want %q", err, c.code)
			}
			if err == nil && !slices.Equal(names(out.Parameters), c.want) {
				t.Errorf("got %v, want %v", names(out.Parameters), c.want)
			}
		})
	}
}

func TestSecureStringsNeedDecryption(t *testing.T) {
	f := settingsFixture(t)
	for _, decrypt := range []bool{false, true} {
		out, err := f.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/myappctl/s/backend"), WithDecryption: aws.Bool(decrypt)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range out.Parameters {
			plain := aws.ToString(p.Value) == "value of "+aws.ToString(p.Name)
			if want := decrypt || p.Type != types.ParameterTypeSecureString; plain != want {
				t.Errorf("decrypt %v: %s = %q", decrypt, aws.ToString(p.Name), aws.ToString(p.Value))
			}
			if p.Version != 1 || aws.ToString(p.ARN) != "arn:aws:ssm:us-east-1:"+Account+":parameter"+aws.ToString(p.Name) {
				t.Errorf("parameter = %+v", p)
			}
		}
	}
	got, err := f.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"/myappctl/s/backend/DBPASSWORD", "/gone"}, WithDecryption: aws.Bool(true)})
	if err != nil || len(got.Parameters) != 1 || aws.ToString(got.Parameters[0].Value) != "value of /myappctl/s/backend/DBPASSWORD" ||
		!slices.Equal(got.InvalidParameters, []string{"/gone"}) {
		t.Errorf("GetParameters = %+v, %v", got, err)
	}
}

func TestParameterPages(t *testing.T) {
	for _, empty := range []bool{false, true} {
		t.Run(fmt.Sprint("empty pages ", empty), func(t *testing.T) {
			f := NewSSM(NewCore(), "us-east-1")
			f.EmptyPages = empty
			for i := range 57 {
				mustPut(t, f, put(fmt.Sprintf("/many/p%02d", i), "v", types.ParameterTypeString))
			}
			perEmpty := map[bool]int{false: 1, true: 2}[empty] // a page with results, after an empty one
			var byPath []string
			pages := 0
			for p := ssm.NewGetParametersByPathPaginator(f, &ssm.GetParametersByPathInput{Path: aws.String("/many")}); p.HasMorePages(); pages++ {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Parameters) > 10 {
					t.Fatalf("a page of %d", len(out.Parameters))
				}
				byPath = append(byPath, names(out.Parameters)...)
			}
			if len(byPath) != 57 || pages != 6*perEmpty || !slices.IsSorted(byPath) {
				t.Errorf("%d parameters in %d pages", len(byPath), pages)
			}
			var described []string
			pages = 0
			for p := ssm.NewDescribeParametersPaginator(f, &ssm.DescribeParametersInput{}); p.HasMorePages(); pages++ {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range out.Parameters {
					described = append(described, aws.ToString(m.Name))
				}
			}
			if !slices.Equal(described, byPath) || pages != 2*perEmpty {
				t.Errorf("described %d in %d pages", len(described), pages)
			}
		})
	}
	_, err := NewSSM(NewCore(), "us-east-1").DescribeParameters(ctx, &ssm.DescribeParametersInput{MaxResults: aws.Int32(51)})
	wantCode(t, err, "ValidationException")
}

func TestDescribeParametersFilters(t *testing.T) {
	f := settingsFixture(t)
	filter := func(key, option string, values ...string) types.ParameterStringFilter {
		out := types.ParameterStringFilter{Key: aws.String(key), Values: values}
		if option != "" {
			out.Option = aws.String(option)
		}
		return out
	}
	for _, c := range []struct {
		name    string
		filters []types.ParameterStringFilter
		want    []string
		code    string
	}{
		{"name equals", []types.ParameterStringFilter{filter("Name", "", "/myappctl/s/frontend/APIURL")}, []string{"/myappctl/s/frontend/APIURL"}, ""},
		{"name begins with", []types.ParameterStringFilter{filter("Name", "BeginsWith", "/myappctl/s/")},
			[]string{"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL", "/myappctl/s/backend/deeper/X", "/myappctl/s/frontend/APIURL"}, ""},
		{"path one level", []types.ParameterStringFilter{filter("Path", "", "/myappctl/s/backend")},
			[]string{"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL"}, ""},
		{"path recursive", []types.ParameterStringFilter{filter("Path", "Recursive", "/myappctl/s/backend")},
			[]string{"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL", "/myappctl/s/backend/deeper/X"}, ""},
		{"stack tag and type", []types.ParameterStringFilter{filter("tag:"+awsx.TagStack, "", "s"), filter("Type", "", "String")},
			[]string{"/myappctl/s/backend/DBURL", "/myappctl/s/backend/deeper/X", "/myappctl/s/frontend/APIURL"}, ""},
		{"tag key present", []types.ParameterStringFilter{filter("tag:tier", "")}, []string{"/myappctl/other/frontend/APIURL",
			"/myappctl/s/backend/DBPASSWORD", "/myappctl/s/backend/DBURL", "/myappctl/s/backend/deeper/X", "/myappctl/s/frontend/APIURL"}, ""},
		{"tag value of another stack", []types.ParameterStringFilter{filter("tag:"+awsx.TagStack, "", "nope")}, nil, ""},
		{"key id", []types.ParameterStringFilter{filter("KeyId", "", DefaultParameterKey)}, []string{"/myappctl/s/backend/DBPASSWORD"}, ""},
		{"unknown key", []types.ParameterStringFilter{filter("Colour", "", "x")}, nil, "InvalidFilterKey"},
		{"label is for paths", []types.ParameterStringFilter{filter("Label", "", "x")}, nil, "InvalidFilterKey"},
		{"path with equals", []types.ParameterStringFilter{filter("Path", "Equals", "/myappctl")}, nil, "InvalidFilterOption"},
		{"relative path", []types.ParameterStringFilter{filter("Path", "", "myappctl")}, nil, "InvalidFilterValue"},
		{"no values", []types.ParameterStringFilter{filter("Name", "")}, nil, "InvalidFilterValue"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := f.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: c.filters})
			if awsx.ErrorCode(err) != c.code {
				t.Fatalf("err = %v, want %q", err, c.code)
			}
			if err != nil {
				return
			}
			var got []string
			for _, m := range out.Parameters {
				got = append(got, aws.ToString(m.Name))
				if m.Version != 1 || m.LastModifiedDate == nil || aws.ToString(m.DataType) != "text" || m.Tier != types.ParameterTierStandard {
					t.Errorf("metadata = %+v", m)
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestParameterTagsAndDeletes(t *testing.T) {
	f := settingsFixture(t)
	name := aws.String("/myappctl/s/frontend/APIURL")
	pt := types.ResourceTypeForTaggingParameter
	if _, err := f.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: pt, ResourceId: name, Tags: awsx.Tags{"tier": "web", "extra": "1"}.SSM()}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.RemoveTagsFromResource(ctx, &ssm.RemoveTagsFromResourceInput{ResourceType: pt, ResourceId: name, TagKeys: []string{"extra", "absent"}}); err != nil {
		t.Fatal(err)
	}
	out, err := f.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: pt, ResourceId: name})
	if got := awsx.SSMTagMap(out.TagList); err != nil || len(got) != 2 || got["tier"] != "web" || got[awsx.TagStack] != "s" {
		t.Errorf("tags = %v, %v", got, err)
	}
	for _, c := range []struct {
		name string
		call func() error
		code string
	}{
		{"unknown parameter", func() error {
			_, err := f.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: pt, ResourceId: aws.String("/nope")})
			return err
		}, "InvalidResourceId"},
		{"by ARN", func() error {
			_, err := f.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: pt, ResourceId: aws.String(ParameterARN("us-east-1", *name))})
			return err
		}, "InvalidResourceId"},
		{"another resource type", func() error {
			_, err := f.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingDocument, ResourceId: name})
			return err
		}, "InvalidResourceId"},
		{"not a resource type", func() error {
			_, err := f.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: "Bucket", ResourceId: name, Tags: awsx.Tags{"k": "v"}.SSM()})
			return err
		}, "InvalidResourceType"},
		{"reserved key", func() error {
			_, err := f.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: pt, ResourceId: name, Tags: awsx.Tags{"aws:x": "v"}.SSM()})
			return err
		}, "InvalidTag"},
		{"too many tags", func() error {
			many := awsx.Tags{}
			for i := range 49 {
				many[fmt.Sprint("k", i)] = "v"
			}
			_, err := f.AddTagsToResource(ctx, &ssm.AddTagsToResourceInput{ResourceType: pt, ResourceId: name, Tags: many.SSM()})
			return err
		}, "TooManyTagsError"},
		{"delete unknown", func() error {
			_, err := f.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/nope")})
			return err
		}, "ParameterNotFound"},
		{"delete", func() error {
			_, err := f.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: name})
			return err
		}, ""},
		{"tags of a deleted parameter", func() error {
			_, err := f.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: pt, ResourceId: name})
			return err
		}, "InvalidResourceId"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); awsx.ErrorCode(err) != c.code {
				t.Errorf("err = %v, want %q", err, c.code)
			}
		})
	}
	del, err := f.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{"/myappctl/s/backend/DBURL", "/myappctl/s/frontend/APIURL"}})
	if err != nil || !slices.Equal(del.DeletedParameters, []string{"/myappctl/s/backend/DBURL"}) || !slices.Equal(del.InvalidParameters, []string{"/myappctl/s/frontend/APIURL"}) {
		t.Errorf("DeleteParameters = %+v, %v", del, err)
	}
	if got := f.ParameterNames(); len(got) != 3 || f.Count()["parameter"] != 3 {
		t.Errorf("left: %v", got)
	}
}
