// Presigned S3 URLs (Signature Version 4 in the query string), checked
// against the example in AWS's own documentation.
#include "app/s3_storage.hpp"

#include <catch2/catch.hpp>

using namespace exceed;

TEST_CASE("a presigned GET is signed exactly as AWS documents it") {
  // docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
  auto url = app::presign_parts("https://examplebucket.s3.amazonaws.com", "examplebucket.s3.amazonaws.com",
                                "/test.txt", "GET", {}, "us-east-1", "AKIAIOSFODNN7EXAMPLE",
                                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 86400, 1'369'353'600'000);
  CHECK(url ==
        "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST_CASE("path-style URLs name the endpoint's host and port, and sign the response overrides") {
  app::S3Settings s{"http://127.0.0.1:4568", "exceed", "us-east-1", "S3RVER", "S3RVER", 300, ""};
  app::Presign p;
  p.key = std::string(64, 'a');
  p.query = {{"response-content-disposition", "attachment; filename=\"a b.pdf\""}};
  auto url = app::presign(s, p, 1'369'353'600'000);
  CHECK(url.rfind("http://127.0.0.1:4568/exceed/" + p.key + "?", 0) == 0);
  CHECK(url.find("response-content-disposition=attachment%3B%20filename%3D%22a%20b.pdf%22") != std::string::npos);
  CHECK(url.find("X-Amz-Signature=") != std::string::npos);
}
