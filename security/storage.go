package security

import (
	"slices"
	"strings"

	"github.com/pulsar-fleet/pulsar-fleet/internal/iampolicy"
	"github.com/pulsar-fleet/pulsar-fleet/internal/recorder"
)

// bucketTypes are the resource types that make an S3 bucket: the program's
// (BucketV2, whose settings are resources of their own) and the legacy
// one, whose inline settings the rules do not read, so a legacy bucket
// fails them: it is judged, never overlooked.
var bucketTypes = []string{"aws:s3/bucketV2:BucketV2", "aws:s3/bucket:Bucket"}

// buckets are every bucket the stack makes.
func (v *view) buckets() []recorder.Resource {
	var out []recorder.Resource
	for _, t := range bucketTypes {
		out = append(out, v.byType[t]...)
	}
	return out
}

func s3Encrypted(v *view) []Finding {
	var out []Finding
	for _, b := range v.buckets() {
		ok := false
		for _, c := range v.attached("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "bucket", b.ID) {
			rules, _ := c.Inputs["rules"].([]any)
			for _, r := range rules {
				if slices.Contains([]string{"aws:kms", "aws:kms:dsse", "AES256"}, str(get(r, "applyServerSideEncryptionByDefault.sseAlgorithm"))) {
					ok = true
				}
			}
		}
		if !ok {
			out = append(out, fail(res(b), "no default encryption (add a server-side encryption configuration with aws:kms or AES256)"))
		}
	}
	return out
}

func s3Versioned(v *view) []Finding {
	var out []Finding
	for _, b := range v.buckets() {
		ok := false
		for _, c := range v.attached("aws:s3/bucketVersioningV2:BucketVersioningV2", "bucket", b.ID) {
			ok = ok || str(get(c.Inputs, "versioningConfiguration.status")) == "Enabled"
		}
		if !ok {
			out = append(out, fail(res(b), "versioning is not Enabled (cross-region replication and recovery from deletes need it)"))
		}
	}
	return out
}

func s3PublicAccessBlocked(v *view) []Finding {
	var out []Finding
	for _, b := range v.buckets() {
		blocks := v.attached("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket", b.ID)
		if len(blocks) == 0 {
			out = append(out, fail(res(b), "no public access block"))
			continue
		}
		for _, pab := range blocks {
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				if pab.Inputs[k] != true {
					out = append(out, fail(res(pab), "%s is not true", k))
				}
			}
		}
		for _, p := range v.attached("aws:s3/bucketPolicy:BucketPolicy", "bucket", b.ID) {
			sts, err := iampolicy.Parse(str(p.Inputs["policy"]))
			if err != nil {
				out = append(out, fail(res(p), "%v", err))
				continue
			}
			for _, st := range sts {
				if st.Effect == "Allow" && anyone(st) && len(st.Condition) == 0 {
					out = append(out, fail(res(p), "statement %q allows anyone without a condition", st.Sid))
				}
			}
		}
	}
	return out
}

// anyone reports whether a statement's principal is everybody.
func anyone(st iampolicy.Statement) bool {
	return slices.Contains(st.Principal["*"], "*") || slices.Contains(st.Principal["AWS"], "*")
}

// coversBucketAndObjects says whether a statement's resources name the
// bucket and its objects: "*", or the bucket's ARN and ARN/* (a Deny on
// the bucket alone leaves object reads over plain HTTP allowed).
func coversBucketAndObjects(resources []string) bool {
	bucket := slices.ContainsFunc(resources, func(r string) bool { return r == "*" || !strings.Contains(strings.TrimPrefix(r, "arn:aws:s3:::"), "/") })
	objects := slices.ContainsFunc(resources, func(r string) bool { return r == "*" || strings.HasSuffix(r, "/*") })
	return bucket && objects
}

func s3TLSOnly(v *view) []Finding {
	var out []Finding
	for _, b := range v.buckets() {
		ok := false
		for _, p := range v.attached("aws:s3/bucketPolicy:BucketPolicy", "bucket", b.ID) {
			sts, err := iampolicy.Parse(str(p.Inputs["policy"]))
			if err != nil {
				continue
			}
			for _, st := range sts {
				allActions := slices.Contains(st.Actions, "s3:*") || slices.Contains(st.Actions, "*")
				if st.Effect == "Deny" && anyone(st) && allActions && coversBucketAndObjects(st.Resources) && slices.Contains(st.Condition["Bool"]["aws:SecureTransport"], "false") {
					ok = true
				}
			}
		}
		if !ok {
			out = append(out, fail(res(b), "no bucket policy denies s3:* when aws:SecureTransport is false"))
		}
	}
	return out
}
