package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// anthropicClient talks to the Anthropic Messages API with tool use through
// the official SDK, with the SDK's retries off (see openaiClient).
type anthropicClient struct {
	c anthropic.Client
}

func newAnthropicClient(baseURL, apiKey string, opts ...option.RequestOption) *anthropicClient {
	o := []option.RequestOption{option.WithBaseURL(baseURL), option.WithMaxRetries(0)}
	if apiKey != "" {
		o = append(o, option.WithAPIKey(apiKey))
	}
	return &anthropicClient{c: anthropic.NewClient(append(o, opts...)...)}
}

func (c *anthropicClient) chat(ctx context.Context, req *chatRequest) (*chatResponse, error) {
	p := anthropic.MessageNewParams{
		Model:     anthropic.Model(req.Model),
		MaxTokens: int64(req.MaxTokens),
		// The system prompt and the tools are the same for every turn of
		// a stage and every note: cached, they are read at a tenth of the
		// price after the first turn.
		System: []anthropic.TextBlockParam{{Text: req.System, CacheControl: anthropic.NewCacheControlEphemeralParam()}},
	}
	if req.Temperature != nil {
		p.Temperature = anthropic.Float(*req.Temperature)
	}
	// Anthropic wants the results of one assistant turn's tool calls in a
	// single user message, so consecutive tool messages are merged.
	var pendingResults []anthropic.ContentBlockParamUnion
	flush := func() {
		if len(pendingResults) > 0 {
			p.Messages = append(p.Messages, anthropic.NewUserMessage(pendingResults...))
			pendingResults = nil
		}
	}
	for _, m := range req.Messages {
		switch m.Role {
		case "tool":
			pendingResults = append(pendingResults, anthropic.NewToolResultBlock(m.CallID, m.Text, m.IsError))
		case "user":
			flush()
			p.Messages = append(p.Messages, anthropic.NewUserMessage(anthropic.NewTextBlock(m.Text)))
		case "assistant":
			flush()
			var blocks []anthropic.ContentBlockParamUnion
			if m.Text != "" {
				blocks = append(blocks, anthropic.NewTextBlock(m.Text))
			}
			for _, tc := range m.Calls {
				// The API requires the input to be an object: arguments
				// that did not parse are sent back as an empty object
				// (the tool result tells the model what was wrong).
				var input any = map[string]any{}
				if validJSONObject(tc.Args) {
					input = json.RawMessage(tc.Args)
				}
				blocks = append(blocks, anthropic.NewToolUseBlock(tc.ID, input, tc.Name))
			}
			if len(blocks) == 0 {
				blocks = append(blocks, anthropic.NewTextBlock("(no content)"))
			}
			p.Messages = append(p.Messages, anthropic.NewAssistantMessage(blocks...))
		}
	}
	flush()
	for _, t := range req.Tools {
		schema := anthropic.ToolInputSchemaParam{Properties: t.Schema["properties"]}
		if r, ok := t.Schema["required"].([]string); ok {
			schema.Required = r
		}
		p.Tools = append(p.Tools, anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{
			Name:        t.Name,
			Description: anthropic.String(t.Description),
			InputSchema: schema,
		}})
	}
	if n := len(p.Tools); n > 0 {
		p.Tools[n-1].OfTool.CacheControl = anthropic.NewCacheControlEphemeralParam()
	}
	if req.ToolChoice != "" {
		p.ToolChoice = anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{Name: req.ToolChoice}}
	}
	resp, err := c.c.Messages.New(ctx, p)
	if err != nil {
		var ae *anthropic.Error
		if errors.As(err, &ae) {
			return nil, newStatusError(ae.StatusCode, ae.Response, errorText(err))
		}
		return nil, err
	}
	out := &chatResponse{
		Model: string(resp.Model),
		Usage: tokenUsage{
			Input:  int(resp.Usage.InputTokens + resp.Usage.CacheCreationInputTokens),
			Cached: int(resp.Usage.CacheReadInputTokens),
			Output: int(resp.Usage.OutputTokens),
		},
	}
	for _, b := range resp.Content {
		switch b.Type {
		case "text":
			if out.Text != "" {
				out.Text += "\n"
			}
			out.Text += b.Text
		case "tool_use":
			out.Calls = append(out.Calls, ToolCall{ID: b.ID, Name: b.Name, Args: string(b.Input)})
		}
	}
	switch resp.StopReason {
	case anthropic.StopReasonEndTurn, anthropic.StopReasonStopSequence:
		out.Stop = stopEnd
	case anthropic.StopReasonToolUse:
		out.Stop = stopTool
	case anthropic.StopReasonMaxTokens:
		out.Stop = stopLength
	case anthropic.StopReasonRefusal:
		out.Stop = stopRefusal
		out.Refusal = out.Text
	default:
		out.Stop = stopOther
	}
	return out, nil
}

type anthropicOption = option.RequestOption

func anthropicHTTPClient(c *http.Client) anthropicOption { return option.WithHTTPClient(c) }
