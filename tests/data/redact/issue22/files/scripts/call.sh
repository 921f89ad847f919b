#!/bin/sh
curl -s -H "Authorization: Bearer fAkEbEaReR0123456789abcdefXYZ" https://api.example.invalid/v1/me
curl -s -H "Authorization: Basic ZmFrZXVzZXI6RmFrZUJhc2ljUHcyMg==" https://api.example.invalid/v1/me
curl -s -u deploy:CurlFakePw99 https://api.example.invalid/v1/deploy
