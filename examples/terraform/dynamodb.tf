# Store: DynamoDB. A string partition key `id`, TTL on `ttl` (epoch seconds), on-demand billing;
# the function needs UpdateItem and GetItem on this table only, and no VPC.

resource "aws_dynamodb_table" "idempotency" {
  name         = "genesys-crm-sync-idempotency"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }
}

resource "aws_iam_policy" "idempotency_table" {
  name = "genesys-crm-sync-idempotency"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["dynamodb:UpdateItem", "dynamodb:GetItem"], Resource = aws_dynamodb_table.idempotency.arn }]
  })
}

locals {
  idemkit_store     = "dynamodb://${aws_dynamodb_table.idempotency.name}"
  store_policy_arns = [aws_iam_policy.idempotency_table.arn]
  vpc_config        = null
}
