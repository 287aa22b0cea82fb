package steps

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/myappctl/myappctl/internal/settings"
	"github.com/myappctl/myappctl/internal/state"
)

// rewindToConsoleDesign makes a converged stack look like one the earlier
// myappctl built: its instances and AMIs carry no release and run an app
// that never reports, its launch templates' default versions hold the
// settings and the database password in their user data, and the state
// records the AMIs under their old keys.
func (cb *computeBed) rewindToConsoleDesign() {
	cb.t.Helper()
	st := cb.state()
	for _, id := range cb.liveInstancesAll() {
		cb.cloud.EC2.SetTag(id, tagRelease, "")
		cb.cloud.EC2.SetInstalled(id, "")
	}
	for _, t := range []*appTier{&frontendTier, &backendTier} {
		ami := st.Output(t.AMIStage, t.AMIOutput)
		cb.cloud.EC2.SetTag(ami, tagRelease, "")
		cb.cloud.EC2.SetTag(ami, "Name", t.AMIName) // the old name, without the release
		cb.cloud.EC2.RenameImage(ami, t.AMIName)
		cb.cloud.EC2.SetInstalled(ami, "")
		for _, res := range st.Stage(t.AMIStage).Resources {
			if res.ID == ami {
				must(cb.t, st.DropResource(t.AMIStage, res.Key))
				must(cb.t, st.PutResource(t.AMIStage, state.Resource{Key: "image/" + t.Name, Type: res.Type, ID: ami, Name: t.AMIName}))
			}
		}
		must(cb.t, st.SetOutput(t.AMIStage, t.ReleaseOutput, ""))
	}
	legacy := "#!/bin/bash\ncat > /etc/myapp/myapp-backend.env <<'MYAPP_ENV'\nDBURL=\"" + testDBEndpoint + "\"\nDBPASSWORD=\"" +
		cb.state().Secret("rds", SecretDBPassword) + "\"\nMYAPP_ENV\n"
	for _, out := range []string{OutFrontendLaunchTemplate, OutBackendLaunchTemplate} {
		lt := st.Output("autoscaling", out)
		d := cb.defaultTemplateData(lt)
		v, err := cb.cloud.EC2.CreateLaunchTemplateVersion(bg, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
			LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: d.ImageId, InstanceType: d.InstanceType, SecurityGroupIds: d.SecurityGroupIds,
				UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(legacy)))}})
		must(cb.t, err)
		_, err = cb.cloud.EC2.ModifyLaunchTemplate(bg, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt),
			DefaultVersion: aws.String(strconv.FormatInt(aws.ToInt64(v.LaunchTemplateVersion.VersionNumber), 10))})
		must(cb.t, err)
	}
	bucket := st.Output("security", OutArtifactsBucket)
	out, err := cb.cloud.S3.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(settings.ReportPrefix)})
	must(cb.t, err)
	var keys []s3types.ObjectIdentifier
	for _, o := range out.Contents {
		keys = append(keys, s3types.ObjectIdentifier{Key: o.Key})
	}
	if len(keys) > 0 {
		_, err = cb.cloud.S3.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: keys}})
		must(cb.t, err)
	}
}

func TestAStackOfTheEarlierDesignConvergesToThisOne(t *testing.T) {
	cb := newStackBed(t)
	cb.up("")
	cb.rewindToConsoleDesign()
	oldAMIs := []string{cb.state().Output("frontend-lb", OutFrontendAMI), cb.state().Output("backend", OutBackendAMI)}
	tgs := []string{cb.state().Output("frontend-lb", OutFrontendTGARN), cb.state().Output("backend-lb", OutBackendTGARN)}
	cb.reload()
	stop := cb.watchServing(tgs...)
	cb.up("")
	for tg, n := range stop() {
		if n < 2 {
			t.Errorf("%s fell to %d healthy targets while converging", arnName(tg), n)
		}
	}
	st := cb.state()
	for tier, s := range map[string]scaledTier{"frontend": scaledTiers[0], "backend": scaledTiers[1]} {
		want, err := s.settings(bg, &Run{Env: cb.runner.Env, Stage: cb.runner.Stages[7]})
		must(t, err)
		for _, id := range groupInstanceIDs(cb.asg(tier + "-asg")) {
			if rep := cb.report(tier, id); rep.Release != cb.sha("myapp-"+tier) || rep.SettingsVersion != settings.Version(want) {
				t.Errorf("%s %s reports %+v", tier, id, rep)
			}
		}
	}
	pw := st.Secret("rds", SecretDBPassword)
	for _, ud := range cb.cloud.EC2.LaunchTemplateUserData() {
		if strings.Contains(ud, pw) || strings.Contains(ud, "DBPASSWORD") {
			t.Errorf("a launch template version still holds the password:\n%s", ud)
		}
	}
	for _, id := range oldAMIs {
		if im, _ := describeImage(bg, cb.runner.Env, id); im != nil {
			t.Errorf("the old AMI %s is still there", id)
		}
	}
	for _, s := range []string{"frontend-lb", "backend"} {
		for _, res := range st.Stage(s).Resources {
			if res.Key == "image/frontend" || res.Key == "image/backend" {
				t.Errorf("stage %s still records the old AMI %s", s, res.ID)
			}
		}
	}
	cb.assertNoOpUp()
}
