package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// EnvPrefix prefixes every environment setting: MYAPP_REGION, MYAPP_VPC_CIDR, ...
const EnvPrefix = "MYAPP"

// DefaultFile is read when --config is not given and the file exists.
const DefaultFile = "configs/myapp.yaml"

// FlagKeys maps global flag names to the configuration keys they override.
var FlagKeys = map[string]string{
	"stack":        "stack",
	"region":       "region",
	"profile":      "profile",
	"endpoint-url": "endpoint_url",
	"state":        "state_file",
}

// LoadOptions says where configuration comes from. Precedence, lowest first:
// defaults, file, environment, flags that were set.
type LoadOptions struct {
	File  string         // explicit --config; empty means DefaultFile if present
	Flags *pflag.FlagSet // may be nil
}

// Load reads, merges and validates the configuration.
func Load(opts LoadOptions) (Config, error) {
	v := viper.New()
	setDefaults(v, "", reflect.ValueOf(Defaults()))
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	file, err := readFile(v, opts.File)
	if err != nil {
		return Config{}, err
	}
	if file != "" {
		if err := checkKeys(v, file); err != nil {
			return Config{}, err
		}
	}
	if opts.Flags != nil {
		for flag, key := range FlagKeys {
			if f := opts.Flags.Lookup(flag); f != nil && f.Changed {
				v.Set(key, f.Value.String())
			}
		}
	}
	var c Config
	err = v.UnmarshalExact(&c, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)))
	if err != nil {
		return Config{}, fmt.Errorf("configuration: %s (check the key names and value types against configs/example.yaml)", cleanDecodeError(err))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// readFile reads the configuration file and returns its name ("" if none).
func readFile(v *viper.Viper, file string) (string, error) {
	if file == "" {
		if _, err := os.Stat(DefaultFile); err != nil {
			return "", nil
		}
		file = DefaultFile
	}
	v.SetConfigFile(file)
	v.SetConfigType("yaml")
	if err := v.ReadInConfig(); err != nil {
		var pathErr *os.PathError
		if errors.As(err, &pathErr) {
			return "", fmt.Errorf("config file %s: %w (pass an existing file with --config)", file, pathErr.Err)
		}
		return "", fmt.Errorf("config file %s is not valid YAML: %v", file, err)
	}
	return file, nil
}

// setDefaults registers every key with its default so that environment
// variables are seen for all of them (viper only maps env for known keys).
func setDefaults(v *viper.Viper, prefix string, val reflect.Value) {
	t := val.Type()
	for i := 0; i < t.NumField(); i++ {
		key := t.Field(i).Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		f := val.Field(i)
		if f.Kind() == reflect.Struct {
			setDefaults(v, key, f)
			continue
		}
		v.SetDefault(key, f.Interface())
	}
}

func cleanDecodeError(err error) string {
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "decoding failed due to the following error(s):\n\n", "")
	return strings.TrimSpace(msg)
}

// allKeys lists every configuration key ("vpc.cidr", ...).
func allKeys() []string {
	v := viper.New()
	setDefaults(v, "", reflect.ValueOf(Defaults()))
	return v.AllKeys()
}
