//! CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation, ListBuckets.

use s3s::dto::{
    Bucket as BucketDto, CreateBucketInput, CreateBucketOutput, DeleteBucketInput,
    DeleteBucketOutput, GetBucketLocationInput, GetBucketLocationOutput, HeadBucketInput,
    HeadBucketOutput, ListBucketsInput, ListBucketsOutput,
};
use s3s::{S3Request, S3Response, S3Result};

use super::wire::owner;
use super::{LocalS3, s3};
use crate::s3::store::StoreError;

pub(super) async fn create_bucket(
    this: &LocalS3,
    req: S3Request<CreateBucketInput>,
) -> S3Result<S3Response<CreateBucketOutput>> {
    let created = this.store.create_bucket(&req.input.bucket).map_err(s3)?;
    // us-east-1 answers 200 to a create of a bucket you own, for historical reasons; every
    // other region BucketAlreadyOwnedByYou.
    if !created && crate::config::DEFAULT_REGION != "us-east-1" {
        return Err(s3(StoreError::BucketAlreadyOwnedByYou));
    }
    Ok(S3Response::new(CreateBucketOutput {
        location: Some(format!("/{}", req.input.bucket)),
    }))
}

pub(super) async fn delete_bucket(
    this: &LocalS3,
    req: S3Request<DeleteBucketInput>,
) -> S3Result<S3Response<DeleteBucketOutput>> {
    this.store
        .delete_bucket(&req.input.bucket)
        .await
        .map_err(s3)?;
    Ok(S3Response::new(DeleteBucketOutput::default()))
}

pub(super) async fn head_bucket(
    this: &LocalS3,
    req: S3Request<HeadBucketInput>,
) -> S3Result<S3Response<HeadBucketOutput>> {
    this.store.bucket(&req.input.bucket).map_err(s3)?;
    Ok(S3Response::new(HeadBucketOutput {
        bucket_region: Some(crate::config::DEFAULT_REGION.to_owned()),
        ..HeadBucketOutput::default()
    }))
}

pub(super) async fn get_bucket_location(
    this: &LocalS3,
    req: S3Request<GetBucketLocationInput>,
) -> S3Result<S3Response<GetBucketLocationOutput>> {
    this.store.bucket(&req.input.bucket).map_err(s3)?;
    // us-east-1 is the empty location constraint.
    let location = (crate::config::DEFAULT_REGION != "us-east-1").then(|| {
        s3s::dto::BucketLocationConstraint::from(crate::config::DEFAULT_REGION.to_owned())
    });
    Ok(S3Response::new(GetBucketLocationOutput {
        location_constraint: location,
    }))
}

pub(super) async fn list_buckets(
    this: &LocalS3,
    _req: S3Request<ListBucketsInput>,
) -> S3Result<S3Response<ListBucketsOutput>> {
    let buckets = this
        .store
        .list_buckets()
        .map_err(s3)?
        .into_iter()
        .map(|(name, created)| BucketDto {
            name: Some(name),
            creation_date: Some(created),
            bucket_region: Some(crate::config::DEFAULT_REGION.to_owned()),
        })
        .collect();
    Ok(S3Response::new(ListBucketsOutput {
        buckets: Some(buckets),
        owner: Some(owner()),
        ..ListBucketsOutput::default()
    }))
}
