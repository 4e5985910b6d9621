package agent

import (
	"context"
	"errors"
	"net/http"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// openaiClient talks to an OpenAI-compatible Chat Completions endpoint
// (OpenAI, Azure OpenAI, vLLM, Ollama, llama.cpp server, LM Studio) with the
// official SDK. The SDK's own retries are off: the agent retries itself so
// that every attempt is budgeted and recorded.
type openaiClient struct {
	c openai.Client
}

func newOpenAIClient(baseURL, apiKey string, opts ...option.RequestOption) *openaiClient {
	o := []option.RequestOption{option.WithBaseURL(baseURL), option.WithMaxRetries(0)}
	if apiKey != "" {
		o = append(o, option.WithAPIKey(apiKey))
	}
	return &openaiClient{c: openai.NewClient(append(o, opts...)...)}
}

func (c *openaiClient) chat(ctx context.Context, req *chatRequest) (*chatResponse, error) {
	p := openai.ChatCompletionNewParams{
		Model:               shared.ChatModel(req.Model),
		MaxCompletionTokens: openai.Int(int64(req.MaxTokens)),
	}
	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	p.Messages = append(p.Messages, openai.SystemMessage(req.System))
	for _, m := range req.Messages {
		switch m.Role {
		case "user":
			p.Messages = append(p.Messages, openai.UserMessage(m.Text))
		case "tool":
			p.Messages = append(p.Messages, openai.ToolMessage(m.Text, m.CallID))
		case "assistant":
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Text != "" {
				a.Content.OfString = openai.String(m.Text)
			}
			for _, tc := range m.Calls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID:       tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: tc.Args},
					},
				})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		}
	}
	for _, t := range req.Tools {
		p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        t.Name,
			Description: openai.String(t.Description),
			Parameters:  shared.FunctionParameters(t.Schema),
		}))
	}
	if req.ToolChoice != "" {
		p.ToolChoice = openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: req.ToolChoice})
	}
	resp, err := c.c.Chat.Completions.New(ctx, p)
	if err != nil {
		var ae *openai.Error
		if errors.As(err, &ae) {
			return nil, newStatusError(ae.StatusCode, ae.Response, ae.Message)
		}
		return nil, err
	}
	out := &chatResponse{
		Model: resp.Model,
		Usage: tokenUsage{
			Input:  int(resp.Usage.PromptTokens - resp.Usage.PromptTokensDetails.CachedTokens),
			Cached: int(resp.Usage.PromptTokensDetails.CachedTokens),
			Output: int(resp.Usage.CompletionTokens),
		},
	}
	if len(resp.Choices) == 0 {
		out.Stop = stopOther
		return out, nil
	}
	ch := resp.Choices[0]
	out.Text = ch.Message.Content
	out.Refusal = ch.Message.Refusal
	for _, tc := range ch.Message.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue
		}
		out.Calls = append(out.Calls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Args: tc.Function.Arguments})
	}
	switch ch.FinishReason {
	case "stop":
		out.Stop = stopEnd
	case "tool_calls", "function_call":
		out.Stop = stopTool
	case "length":
		out.Stop = stopLength
	case "content_filter":
		out.Stop = stopRefusal
	default:
		out.Stop = stopOther
	}
	if out.Refusal != "" {
		out.Stop = stopRefusal
	}
	// Some compatible servers report "stop" even when they return calls.
	if out.Stop == stopEnd && len(out.Calls) > 0 {
		out.Stop = stopTool
	}
	return out, nil
}

type openaiOption = option.RequestOption

func openaiHTTPClient(c *http.Client) openaiOption { return option.WithHTTPClient(c) }
