# The consumer: a Lambda fed by the Genesys Cloud partner event bus, with idemkit configured by
# environment variables. Add exactly one of dynamodb.tf, redis.tf or postgres.tf beside this file:
# each defines local.idemkit_store (the store URL), local.store_policy_arns and local.vpc_config.

variable "genesys_event_source" {
  description = "The partner event source of the Genesys Cloud EventBridge integration, aws.partner/genesys.com/cloud/<org id>/<name>; associate it with an event bus first (the bus has its name)."
  type        = string
}

variable "bundle_zip" {
  description = "The esbuild bundle of the handler, zipped (index.mjs at the root); see the README's Bundling section."
  type        = string
  default     = "dist/handler.zip"
}

resource "aws_sqs_queue" "failed" {
  name                      = "genesys-crm-sync-failed"
  message_retention_seconds = 1209600
}

resource "aws_iam_role" "consumer" {
  name = "genesys-crm-sync"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "lambda.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy_attachment" "consumer" {
  for_each   = toset(concat(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"], local.store_policy_arns))
  role       = aws_iam_role.consumer.name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "failed_events" {
  role = aws_iam_role.consumer.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = aws_sqs_queue.failed.arn }]
  })
}

resource "aws_lambda_function" "consumer" {
  # The function name is the first half of idemkit's key namespace: keep it stable.
  function_name    = "genesys-crm-sync"
  role             = aws_iam_role.consumer.arn
  runtime          = "nodejs22.x"
  architectures    = ["arm64"]
  handler          = "index.handler"
  filename         = var.bundle_zip
  source_code_hash = filebase64sha256(var.bundle_zip)
  memory_size      = 256
  timeout          = 30 # the claim's lease follows the invocation's remaining time

  environment {
    variables = {
      IDEMKIT_STORE        = local.idemkit_store
      IDEMKIT_STRATEGY     = jsonencode({ preset = "genesysCloud" })
      IDEMKIT_RETENTION_MS = "86400000" # a day: longer than Lambda retries an event
      NODE_OPTIONS         = "--enable-source-maps"
    }
  }

  dynamic "vpc_config" {
    for_each = local.vpc_config == null ? [] : [local.vpc_config]
    content {
      subnet_ids         = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }
}

# A thrown error (in progress elsewhere, a downstream failure) is retried by Lambda; what still
# fails lands in the queue. Check it against the store before replaying.
resource "aws_lambda_function_event_invoke_config" "consumer" {
  function_name                = aws_lambda_function.consumer.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
  destination_config {
    on_failure {
      destination = aws_sqs_queue.failed.arn
    }
  }
}

resource "aws_cloudwatch_event_rule" "genesys" {
  name           = "genesys-conversation-events"
  event_bus_name = var.genesys_event_source # a partner event bus is named after its source
  event_pattern = jsonencode({
    source        = [{ prefix = "aws.partner/genesys.com" }]
    "detail-type" = [{ prefix = "v2.detail.events.conversation." }]
  })
}

resource "aws_cloudwatch_event_target" "consumer" {
  rule           = aws_cloudwatch_event_rule.genesys.name
  event_bus_name = var.genesys_event_source
  arn            = aws_lambda_function.consumer.arn
  retry_policy {
    maximum_event_age_in_seconds = 86400
    maximum_retry_attempts       = 185
  }
  dead_letter_config {
    arn = aws_sqs_queue.failed.arn
  }
}

resource "aws_lambda_permission" "eventbridge" {
  statement_id  = "AllowGenesysRule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.consumer.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.genesys.arn
}
