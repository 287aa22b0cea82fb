package fakeaws

import (
	"context"
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// fakeLaunchTemplate is a launch template and its versions (version n at
// index n-1), guarded by EC2.mu.
type fakeLaunchTemplate struct {
	lt       types.LaunchTemplate
	versions []types.LaunchTemplateVersion
	deleted  map[int64]bool // versions DeleteLaunchTemplateVersions removed
}

var launchTemplateName = regexp.MustCompile(`^[a-zA-Z0-9().\-/_]{3,128}$`)

// CreateLaunchTemplate makes a template whose version 1 is the default; a
// repeated ClientToken returns the template the first call made.
func (f *EC2) CreateLaunchTemplate(ctx context.Context, in *ec2.CreateLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateOutput, error) {
	fault, err := f.begin(ctx, "CreateLaunchTemplate")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	if id, ok := f.byToken("CreateLaunchTemplate", aws.ToString(in.ClientToken)); ok {
		return finish(&ec2.CreateLaunchTemplateOutput{LaunchTemplate: copyLaunchTemplate(c.templates[id].lt)}, nil, fault)
	}
	name := aws.ToString(in.LaunchTemplateName)
	switch {
	case !launchTemplateName.MatchString(name):
		return nil, APIError("InvalidLaunchTemplateName.MalformedException", "A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.'")
	case f.templateNamed(name) != nil:
		return nil, APIError("InvalidLaunchTemplateName.AlreadyExistsException", "Launch template name already in use.")
	}
	for _, s := range in.TagSpecifications {
		if s.ResourceType != types.ResourceTypeLaunchTemplate {
			return nil, APIError("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", s.ResourceType)
		}
	}
	data, err := launchTemplateData(in.LaunchTemplateData)
	if err != nil {
		return nil, err
	}
	id := f.id("lt")
	t := &fakeLaunchTemplate{lt: types.LaunchTemplate{LaunchTemplateId: aws.String(id), LaunchTemplateName: aws.String(name),
		CreateTime: aws.Time(time.Now()), CreatedBy: aws.String("arn:aws:iam::" + Account + ":user/test"),
		DefaultVersionNumber: aws.Int64(1), LatestVersionNumber: aws.Int64(1), Tags: tagsFromSpecs(in.TagSpecifications, types.ResourceTypeLaunchTemplate)}}
	t.versions = append(t.versions, t.newVersion(1, data, in.VersionDescription))
	c.templates[id] = t
	f.remember("CreateLaunchTemplate", aws.ToString(in.ClientToken), id)
	return finish(&ec2.CreateLaunchTemplateOutput{LaunchTemplate: copyLaunchTemplate(t.lt)}, nil, fault)
}

// CreateLaunchTemplateVersion adds a version (not the default); a repeated
// ClientToken returns the version the first call made.
func (f *EC2) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	fault, err := f.begin(ctx, "CreateLaunchTemplateVersion")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.template(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	token := aws.ToString(in.ClientToken)
	if n, ok := f.byToken("CreateLaunchTemplateVersion", token); ok {
		i, _ := strconv.Atoi(n)
		return finish(&ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: t.version(int64(i))}, nil, fault)
	}
	if in.SourceVersion != nil {
		return nil, APIError("InvalidParameterValue", "fake does not support SourceVersion: pass the whole launch template data")
	}
	data, err := launchTemplateData(in.LaunchTemplateData)
	if err != nil {
		return nil, err
	}
	n := int64(len(t.versions) + 1)
	t.versions = append(t.versions, t.newVersion(n, data, in.VersionDescription))
	t.lt.LatestVersionNumber = aws.Int64(n)
	f.remember("CreateLaunchTemplateVersion", token, strconv.FormatInt(n, 10))
	return finish(&ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: t.version(n)}, nil, fault)
}

func (t *fakeLaunchTemplate) newVersion(n int64, data *types.ResponseLaunchTemplateData, desc *string) types.LaunchTemplateVersion {
	return types.LaunchTemplateVersion{LaunchTemplateId: t.lt.LaunchTemplateId, LaunchTemplateName: t.lt.LaunchTemplateName,
		VersionNumber: aws.Int64(n), VersionDescription: desc, CreateTime: aws.Time(time.Now()), CreatedBy: t.lt.CreatedBy,
		LaunchTemplateData: data}
}

// launchTemplateData validates what AWS validates and keeps the fields the
// fake knows (the AMI is checked at launch, as in AWS).
func launchTemplateData(in *types.RequestLaunchTemplateData) (*types.ResponseLaunchTemplateData, error) {
	if in == nil {
		return nil, APIError("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	if in.UserData != nil {
		raw, err := base64.StdEncoding.DecodeString(*in.UserData)
		switch {
		case err != nil:
			return nil, APIError("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.")
		case len(raw) > maxUserData:
			return nil, APIError("InvalidUserData.Malformed", "User data is limited to %d bytes", maxUserData)
		}
	}
	out := &types.ResponseLaunchTemplateData{ImageId: in.ImageId, InstanceType: in.InstanceType, KeyName: in.KeyName,
		SecurityGroupIds: slices.Clone(in.SecurityGroupIds), UserData: in.UserData}
	if p := in.IamInstanceProfile; p != nil { // checked at launch, as in AWS
		out.IamInstanceProfile = &types.LaunchTemplateIamInstanceProfileSpecification{Arn: p.Arn, Name: p.Name}
	}
	if m := in.MetadataOptions; m != nil {
		if hops := aws.ToInt32(m.HttpPutResponseHopLimit); m.HttpPutResponseHopLimit != nil && (hops < 1 || hops > 64) {
			return nil, APIError("InvalidParameterValue", "HttpPutResponseHopLimit must be between 1 and 64")
		}
		out.MetadataOptions = &types.LaunchTemplateInstanceMetadataOptions{HttpEndpoint: m.HttpEndpoint, HttpTokens: m.HttpTokens,
			HttpPutResponseHopLimit: m.HttpPutResponseHopLimit, State: types.LaunchTemplateInstanceMetadataOptionsStateApplied}
	}
	for _, s := range in.TagSpecifications {
		if s.ResourceType != types.ResourceTypeInstance && s.ResourceType != types.ResourceTypeVolume && s.ResourceType != types.ResourceTypeNetworkInterface {
			return nil, APIError("InvalidParameterValue", "'%s' is not a valid taggable resource type for launch template data.", s.ResourceType)
		}
		out.TagSpecifications = append(out.TagSpecifications, types.LaunchTemplateTagSpecification{ResourceType: s.ResourceType, Tags: slices.Clone(s.Tags)})
	}
	return out, nil
}

// DescribeLaunchTemplates lists templates by id, name and filters (tag:K,
// tag-key, launch-template-name). An id or name that does not exist fails.
func (f *EC2) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	fault, err := f.begin(ctx, "DescribeLaunchTemplates")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.compute()
	for _, id := range in.LaunchTemplateIds {
		if _, ok := c.templates[id]; !ok {
			return nil, APIError("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
		}
	}
	for _, name := range in.LaunchTemplateNames {
		if f.templateNamed(name) == nil {
			return nil, APIError("InvalidLaunchTemplateName.NotFoundException", "At least one of the launch templates specified in the request does not exist.")
		}
	}
	out := &ec2.DescribeLaunchTemplatesOutput{}
	for _, id := range sortedKeys(c.templates) {
		t := c.templates[id]
		if (len(in.LaunchTemplateIds) > 0 && !slices.Contains(in.LaunchTemplateIds, id)) ||
			(len(in.LaunchTemplateNames) > 0 && !slices.Contains(in.LaunchTemplateNames, aws.ToString(t.lt.LaunchTemplateName))) {
			continue
		}
		ok, err := matches(in.Filters, t.lt.Tags, map[string][]string{"launch-template-name": {aws.ToString(t.lt.LaunchTemplateName)}})
		if err != nil {
			return nil, err
		}
		if ok {
			out.LaunchTemplates = append(out.LaunchTemplates, *copyLaunchTemplate(t.lt))
		}
	}
	return finish(out, nil, fault)
}

// DescribeLaunchTemplateVersions lists a template's versions: those asked
// for (numbers, $Latest, $Default), else all of them.
func (f *EC2) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	fault, err := f.begin(ctx, "DescribeLaunchTemplateVersions")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(in.Filters) > 0 || in.MinVersion != nil || in.MaxVersion != nil {
		return nil, APIError("InvalidParameterValue", "fake supports LaunchTemplateId or LaunchTemplateName with Versions only")
	}
	t, err := f.template(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{}
	if len(in.Versions) == 0 {
		for i := len(t.versions) - 1; i >= 0; i-- { // newest first, as AWS lists them
			if !t.deleted[int64(i+1)] {
				out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, *t.version(int64(i + 1)))
			}
		}
		return finish(out, nil, fault)
	}
	for _, v := range in.Versions {
		n, err := t.versionNumber(v)
		if err != nil {
			return nil, err
		}
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, *t.version(n))
	}
	return finish(out, nil, fault)
}

// ModifyLaunchTemplate sets the default version.
func (f *EC2) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	fault, err := f.begin(ctx, "ModifyLaunchTemplate")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.template(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	if in.DefaultVersion != nil {
		n, err := t.versionNumber(*in.DefaultVersion)
		if err != nil {
			return nil, err
		}
		t.lt.DefaultVersionNumber = aws.Int64(n)
	}
	return finish(&ec2.ModifyLaunchTemplateOutput{LaunchTemplate: copyLaunchTemplate(t.lt)}, nil, fault)
}

// DeleteLaunchTemplateVersions deletes versions; as in AWS, the default
// version cannot go and each version that fails is listed, not an error.
func (f *EC2) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	fault, err := f.begin(ctx, "DeleteLaunchTemplateVersions")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.template(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	if len(in.Versions) == 0 || len(in.Versions) > 200 {
		return nil, APIError("InvalidParameterValue", "between 1 and 200 versions may be deleted at once")
	}
	out := &ec2.DeleteLaunchTemplateVersionsOutput{}
	fail := func(v string, code types.LaunchTemplateErrorCode, msg string) {
		n, _ := strconv.ParseInt(v, 10, 64)
		out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions,
			types.DeleteLaunchTemplateVersionsResponseErrorItem{LaunchTemplateId: t.lt.LaunchTemplateId, LaunchTemplateName: t.lt.LaunchTemplateName,
				VersionNumber: aws.Int64(n), ResponseError: &types.ResponseError{Code: code, Message: aws.String(msg)}})
	}
	for _, v := range in.Versions {
		n, err := t.versionNumber(v)
		switch {
		case err != nil || v == "$Latest" || v == "$Default":
			fail(v, types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist, "the version does not exist")
		case n == aws.ToInt64(t.lt.DefaultVersionNumber):
			fail(v, types.LaunchTemplateErrorCodeUnexpectedError, "You cannot delete the default version of a launch template")
		default:
			if t.deleted == nil {
				t.deleted = map[int64]bool{}
			}
			t.deleted[n] = true
			out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions,
				types.DeleteLaunchTemplateVersionsResponseSuccessItem{LaunchTemplateId: t.lt.LaunchTemplateId, LaunchTemplateName: t.lt.LaunchTemplateName, VersionNumber: aws.Int64(n)})
		}
	}
	for n := aws.ToInt64(t.lt.LatestVersionNumber); t.deleted[n] && n > 1; n-- {
		t.lt.LatestVersionNumber = aws.Int64(n - 1)
	}
	return finish(out, nil, fault)
}

// DeleteLaunchTemplate deletes a template and all its versions.
func (f *EC2) DeleteLaunchTemplate(ctx context.Context, in *ec2.DeleteLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateOutput, error) {
	fault, err := f.begin(ctx, "DeleteLaunchTemplate")
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t, err := f.template(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	delete(f.cmp.templates, aws.ToString(t.lt.LaunchTemplateId))
	return finish(&ec2.DeleteLaunchTemplateOutput{LaunchTemplate: copyLaunchTemplate(t.lt)}, nil, fault)
}

// template finds a template by id or name (exactly one). Callers hold f.mu.
func (f *EC2) template(id, name *string) (*fakeLaunchTemplate, error) {
	c := f.compute()
	switch {
	case id != nil && name != nil:
		return nil, APIError("InvalidParameterCombination", "Specify either LaunchTemplateId or LaunchTemplateName, not both")
	case id != nil:
		if t, ok := c.templates[*id]; ok {
			return t, nil
		}
		return nil, APIError("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", *id)
	case name != nil:
		if t := f.templateNamed(*name); t != nil {
			return t, nil
		}
		return nil, APIError("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", *name)
	}
	return nil, APIError("MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName")
}

func (f *EC2) templateNamed(name string) *fakeLaunchTemplate {
	for _, t := range f.compute().templates {
		if aws.ToString(t.lt.LaunchTemplateName) == name {
			return t
		}
	}
	return nil
}

// versionNumber resolves "$Latest", "$Default" or a number.
func (t *fakeLaunchTemplate) versionNumber(v string) (int64, error) {
	switch v {
	case "$Latest":
		return aws.ToInt64(t.lt.LatestVersionNumber), nil
	case "$Default":
		return aws.ToInt64(t.lt.DefaultVersionNumber), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > int64(len(t.versions)) || t.deleted[n] {
		return 0, APIError("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for template %s", v, aws.ToString(t.lt.LaunchTemplateId))
	}
	return n, nil
}

func copyLaunchTemplate(lt types.LaunchTemplate) *types.LaunchTemplate {
	lt.Tags = slices.Clone(lt.Tags)
	return &lt
}

// version is version n as describes return it.
func (t *fakeLaunchTemplate) version(n int64) *types.LaunchTemplateVersion {
	v := t.versions[n-1]
	v.DefaultVersion = aws.Bool(n == aws.ToInt64(t.lt.DefaultVersionNumber))
	d := *v.LaunchTemplateData
	d.SecurityGroupIds = slices.Clone(d.SecurityGroupIds)
	d.TagSpecifications = slices.Clone(d.TagSpecifications)
	if p := d.IamInstanceProfile; p != nil {
		d.IamInstanceProfile = &types.LaunchTemplateIamInstanceProfileSpecification{Arn: p.Arn, Name: p.Name}
	}
	v.LaunchTemplateData = &d
	return &v
}
