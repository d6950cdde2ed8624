//go:build integration && !windows

package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/pushflo/pushflo/client"
)

func ExampleClient_Publish() {
	c, err := client.New(client.Config{Addrs: []string{exampleAddr}, SecretKey: testSecretKey})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := c.Publish(ctx, "orders:user-123", map[string]any{"orderId": 42},
		client.WithEventType("order-shipped"), client.WithIdempotencyKey("order-42-shipped"))
	if err != nil {
		if client.NotApplied(err) {
			fmt.Println("not published; safe to retry")
		}
		panic(err)
	}
	fmt.Println(res.ChannelSlug, res.EventType)
	// Output: orders:user-123 order-shipped
}

func ExampleClient_Subscribe() {
	c, err := client.New(client.Config{Addrs: []string{exampleAddr}, SecretKey: testSecretKey, PublishKey: testPublishKey})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := c.Subscribe(ctx, "chat:room-42", client.SubscribeOptions{Transport: client.WebSocket})
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	if err := sub.WaitConnected(ctx); err != nil {
		panic(err)
	}
	for _, text := range []string{"hello", "world"} {
		if _, err := c.Publish(ctx, "chat:room-42", map[string]string{"text": text}); err != nil {
			panic(err)
		}
	}
	for i := 0; i < 2; i++ {
		ev, err := sub.Next(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.Kind, string(ev.Message.Content))
	}
	// Output:
	// message {"text":"hello"}
	// message {"text":"world"}
}

func ExampleClient_Since() {
	c, err := client.New(client.Config{Addrs: []string{exampleAddr}, SecretKey: testSecretKey})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := c.Publish(ctx, "catch-up", map[string]int{"n": 1})
	if err != nil {
		panic(err)
	}
	if _, err := c.Publish(ctx, "catch-up", map[string]int{"n": 2}); err != nil {
		panic(err)
	}
	res, err := c.Since(ctx, "catch-up", first.ID, 100)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(res.Items), res.Complete, string(res.Items[0].Content))
	// Output: 1 true {"n":2}
}
