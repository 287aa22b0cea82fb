package steps

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/myappctl/myappctl/internal/awsx"
)

// Launch templates: the tier AMI, instance_type, the tier's group and
// instance profile, IMDSv2 only, a key pair only when configured, user data
// that writes the service's environment (renderRuntimeUserData: where its
// settings and reports live, never a setting or a secret, so relinking or
// a new database never makes a new version), and the tags of the instances
// (the release they run) and volumes. Drift is the default version's data against
// the wanted data, field by field; a change becomes a new version made the
// default, and the group's instance refresh rolls it out.

// templateData is what a tier's launch template should hold.
type templateData struct {
	data    *ec2types.RequestLaunchTemplateData
	release string // the release the AMI holds: plans show it
}

// hash identifies the wanted data (for the client token of a new version).
func (t templateData) hash() string {
	d := t.data
	s := strings.Join([]string{aws.ToString(d.ImageId), string(d.InstanceType), strings.Join(d.SecurityGroupIds, ","), aws.ToString(d.KeyName),
		aws.ToString(d.UserData), templateProfile(d.IamInstanceProfile), fmt.Sprint(awsx.EC2TagMap(templateTags(d, ec2types.ResourceTypeInstance))),
		fmt.Sprint(awsx.EC2TagMap(templateTags(d, ec2types.ResourceTypeVolume)))}, "\n")
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

func wantedTemplate(r *Run, s scaledTier) (templateData, error) {
	t := s.tier
	ami, group, profile := r.Output(t.AMIStage, t.AMIOutput), r.Output("security", t.GroupOutput), r.Output("security", t.ProfileOutput)
	rel := r.Output(t.AMIStage, t.ReleaseOutput)
	if ami == "" || group == "" || profile == "" {
		return templateData{}, fmt.Errorf("stage autoscaling: the %s AMI, security group or instance profile is not in the state file: run `myappctl up --to link` first", t.Name)
	}
	userData, err := renderRuntimeUserData(t.Name, t.Service, serviceEnv(r, t), defaultUserDataPaths())
	if err != nil {
		return templateData{}, err
	}
	name := r.Name(s.group)
	instanceTags := awsx.Tags{tagRelease: rel, tagSource: sourceAMI, tagTier: t.Name}
	for k, v := range r.Tags(name) {
		instanceTags[k] = v
	}
	spec := profileSpec(profile)
	d := &ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami), InstanceType: ec2types.InstanceType(r.Cfg.InstanceType),
		SecurityGroupIds: []string{group}, UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: spec.Arn, Name: spec.Name},
		MetadataOptions: &ec2types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: ec2types.LaunchTemplateHttpTokensStateRequired,
			HttpPutResponseHopLimit: aws.Int32(2), HttpEndpoint: ec2types.LaunchTemplateInstanceMetadataEndpointStateEnabled},
		TagSpecifications: []ec2types.LaunchTemplateTagSpecificationRequest{
			{ResourceType: ec2types.ResourceTypeInstance, Tags: instanceTags.EC2()},
			{ResourceType: ec2types.ResourceTypeVolume, Tags: r.Tags(name).EC2()}}}
	if r.Cfg.KeyName != "" {
		d.KeyName = aws.String(r.Cfg.KeyName)
	}
	return templateData{data: d, release: rel}, nil
}

// templateProfile names a template's instance profile (its ARN or name).
func templateProfile(p *ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest) string {
	if p == nil {
		return ""
	}
	return aws.ToString(p.Arn) + aws.ToString(p.Name)
}

// launchTemplate is a tier's template as ensured: its id, default version,
// and whether this run made a new default.
type launchTemplate struct {
	id      string
	version int64
	changed bool
}

// ensureLaunchTemplate finds or creates the tier's template and makes a
// version with the wanted data its default (the latest version when an
// interrupted run already made it, else a new one).
func ensureLaunchTemplate(ctx context.Context, r *Run, s scaledTier) (launchTemplate, error) {
	want, err := wantedTemplate(r, s)
	if err != nil {
		return launchTemplate{}, err
	}
	name := r.Name(s.template)
	detail := fmt.Sprintf("%s from %s, release %s", want.data.InstanceType, aws.ToString(want.data.ImageId), shortRelease(want.release))
	id, err := r.Ensure(ctx, Spec{Key: "launch-template/" + s.tier.Name, Kind: launchTemplateKind, Name: name, Detail: detail,
		Create: func(ctx context.Context, token string) (string, error) {
			out, err := r.AWS.EC2.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name),
				LaunchTemplateData: want.data, ClientToken: aws.String(token), VersionDescription: aws.String("myappctl: release " + shortRelease(want.release)),
				TagSpecifications: r.Tags(name).EC2Spec(ec2types.ResourceTypeLaunchTemplate)})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.LaunchTemplate.LaunchTemplateId), nil
		}})
	if err != nil || isPlanned(id) {
		return launchTemplate{id: id, version: 1}, err
	}
	out, err := r.AWS.EC2.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(id), Versions: []string{"$Default", "$Latest"}})
	if err == nil && len(out.LaunchTemplateVersions) != 2 {
		err = fmt.Errorf("expected the default and the latest version, got %d", len(out.LaunchTemplateVersions))
	}
	if err != nil {
		return launchTemplate{}, &StageError{Stage: r.Stage.Name, Action: "describe versions of", Resource: launchTemplateKind.Type + " " + name, Err: err}
	}
	def, latest := out.LaunchTemplateVersions[0], out.LaunchTemplateVersions[1]
	drift := templateDrift(def.LaunchTemplateData, want)
	if len(drift) == 0 {
		return launchTemplate{id: id, version: aws.ToInt64(def.VersionNumber)}, nil
	}
	version, err := newDefaultVersion(ctx, r, id, name, want, def, latest, drift)
	return launchTemplate{id: id, version: version, changed: true}, err
}

// newDefaultVersion makes a version with the wanted data the default and
// returns its number.
func newDefaultVersion(ctx context.Context, r *Run, id, name string, want templateData, def, latest ec2types.LaunchTemplateVersion, drift []string) (int64, error) {
	version := aws.ToInt64(latest.VersionNumber)
	reuse := version != aws.ToInt64(def.VersionNumber) && len(templateDrift(latest.LaunchTemplateData, want)) == 0
	detail := fmt.Sprintf("new default version: %s", strings.Join(drift, ", "))
	if reuse {
		detail = fmt.Sprintf("default version %d → %d (made by an earlier run): %s", aws.ToInt64(def.VersionNumber), version, strings.Join(drift, ", "))
	}
	key := "launch-template-version/" + name + "/" + want.hash()
	err := r.change("modify", launchTemplateKind.Type, name, detail, func() error {
		if !reuse {
			token, err := r.clientToken(key)
			if err != nil {
				return err
			}
			out, err := r.AWS.EC2.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(id),
				LaunchTemplateData: want.data, ClientToken: aws.String(token), VersionDescription: aws.String("myappctl: release " + shortRelease(want.release))})
			if err != nil {
				return err
			}
			version = aws.ToInt64(out.LaunchTemplateVersion.VersionNumber)
		}
		_, err := r.AWS.EC2.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(id), DefaultVersion: aws.String(strconv.FormatInt(version, 10))})
		if err != nil {
			return err
		}
		return r.clearToken(key)
	})
	return version, err
}

// templateDrift lists how a version's data differs from the wanted data,
// without ever showing the user data itself.
func templateDrift(have *ec2types.ResponseLaunchTemplateData, want templateData) []string {
	if have == nil {
		have = &ec2types.ResponseLaunchTemplateData{}
	}
	w := want.data
	var drift []string
	diff := func(what string, got, wanted any) {
		if fmt.Sprint(got) != fmt.Sprint(wanted) {
			drift = append(drift, fmt.Sprintf("%s %v → %v", what, orNone(fmt.Sprint(got)), orNone(fmt.Sprint(wanted))))
		}
	}
	diff("AMI", aws.ToString(have.ImageId), aws.ToString(w.ImageId))
	diff("instance type", have.InstanceType, w.InstanceType)
	diff("security groups", slices.Sorted(slices.Values(have.SecurityGroupIds)), slices.Sorted(slices.Values(w.SecurityGroupIds)))
	diff("key pair", aws.ToString(have.KeyName), aws.ToString(w.KeyName))
	tokens, hops, endpoint := "", int32(0), ""
	if m := have.MetadataOptions; m != nil {
		tokens, hops, endpoint = string(m.HttpTokens), aws.ToInt32(m.HttpPutResponseHopLimit), string(m.HttpEndpoint)
	}
	wm := w.MetadataOptions
	diff("metadata tokens", tokens, wm.HttpTokens)
	diff("metadata hop limit", hops, aws.ToInt32(wm.HttpPutResponseHopLimit))
	diff("metadata endpoint", endpoint, wm.HttpEndpoint)
	haveTags := awsx.EC2TagMap(responseTemplateTags(have, ec2types.ResourceTypeInstance))
	wantTags := awsx.EC2TagMap(templateTags(w, ec2types.ResourceTypeInstance))
	diff("release", shortRelease(haveTags[tagRelease]), shortRelease(want.release))
	haveProfile := ""
	if p := have.IamInstanceProfile; p != nil {
		haveProfile = aws.ToString(p.Arn) + aws.ToString(p.Name)
	}
	diff("instance profile", haveProfile, templateProfile(w.IamInstanceProfile))
	if aws.ToString(have.UserData) != aws.ToString(w.UserData) {
		drift = append(drift, "user data (the service's environment)")
	}
	delete(haveTags, tagRelease)
	delete(wantTags, tagRelease)
	if fmt.Sprint(haveTags) != fmt.Sprint(wantTags) {
		drift = append(drift, "instance tags")
	}
	if fmt.Sprint(awsx.EC2TagMap(responseTemplateTags(have, ec2types.ResourceTypeVolume))) != fmt.Sprint(awsx.EC2TagMap(templateTags(w, ec2types.ResourceTypeVolume))) {
		drift = append(drift, "volume tags")
	}
	return drift
}

func templateTags(d *ec2types.RequestLaunchTemplateData, rt ec2types.ResourceType) []ec2types.Tag {
	for _, s := range d.TagSpecifications {
		if s.ResourceType == rt {
			return s.Tags
		}
	}
	return nil
}

func responseTemplateTags(d *ec2types.ResponseLaunchTemplateData, rt ec2types.ResourceType) []ec2types.Tag {
	for _, s := range d.TagSpecifications {
		if s.ResourceType == rt {
			return s.Tags
		}
	}
	return nil
}
